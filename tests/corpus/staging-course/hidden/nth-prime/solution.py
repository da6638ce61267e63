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
    if number < 1:
        raise ValueError("there is no zeroth prime")
    found = []
    candidate = 1
    while len(found) < number:
        candidate += 1
        for p in found:
            if p * p > candidate:
                found.append(candidate)
                break
            if candidate % p == 0:
                break
        else:
            found.append(candidate)
    return found[-1]


if __name__ == "__main__":
    app.run()
