import marimo

__generated_with = "0.13.0"
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    mo.md(
        r"""
        # Loops: add up a list

        Write `total(numbers)`, the sum of a list of numbers, **with a `for` loop**
        (this exercise is about loops: `sum()` does not count).
        """
    )
    return


@app.function
def total(numbers):
    result = 0
    for number in numbers:
        result += number
    return result


if __name__ == "__main__":
    app.run()
