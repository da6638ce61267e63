import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import pandas as pd

    readings = pd.DataFrame({
        "city": ["Oslo", None, "Rome", "Lima", "Oslo"],
        "temp": [3.5, 7.0, 18.25, 16.0, 4.5],
    })


@app.cell
def _():
    import marimo as mo
    mo.md(
        r"""
        # Weather readings

        `readings` holds one temperature per row; some rows lost their city. In the cells
        below, make `cleaned` (the rows with a city, numbered again from 0), `mean_temp` (the
        mean temperature of the cleaned rows) and `warmest` (the city of the warmest cleaned
        reading). Leave `readings` as it is.
        """
    )
    return


@app.cell
def _():
    cleaned = None
    return (cleaned,)


@app.cell
def _(cleaned):
    mean_temp = None
    return (mean_temp,)


@app.cell
def _(cleaned):
    warmest = None
    return (warmest,)


if __name__ == "__main__":
    app.run()
