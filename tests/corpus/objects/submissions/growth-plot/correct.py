# Correct, written differently: the object-oriented Figure API without pyplot, with markers
# and a grid the tests do not look at. Process isolation: 3 of 3.
import marimo

app = marimo.App()

with app.setup:
    from matplotlib.figure import Figure


@app.function
def plot_growth(years: list, values: list):
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(years, values, marker="o")
    ax.grid(True)
    ax.set(title="Growth", xlabel="year", ylabel="value")
    return fig
