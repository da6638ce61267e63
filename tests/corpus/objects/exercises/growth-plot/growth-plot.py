import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import matplotlib.pyplot as plt


@app.cell
def _():
    import marimo as mo
    mo.md(
        r"""
        # Plot a growth curve

        Write `plot_growth(years, values)`: it draws `values` against `years` as one line on
        one set of axes, titled "Growth", with the x axis labelled "year" and the y axis
        "value", and returns the matplotlib `Figure`.
        """
    )
    return


@app.function
def plot_growth(years: list, values: list):
    """Return a Figure with one line of values against years."""
    return None


@app.cell
def _():
    plot_growth([2020, 2021, 2022], [1, 2, 4])
    return


if __name__ == "__main__":
    app.run()
