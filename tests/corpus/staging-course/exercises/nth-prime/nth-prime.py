import marimo

__generated_with = "0.13.0"
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    mo.md(
        r"""
        # The nth prime

        Write `prime(number)`: the prime at position `number` when the primes are
        counted from 1 (`prime(1)` is 2, `prime(6)` is 13). There is no zeroth prime:
        for a `number` below 1, raise `ValueError("there is no zeroth prime")`.
        """
    )
    return


@app.function
def prime(number):
    # your code here
    return None


if __name__ == "__main__":
    app.run()
