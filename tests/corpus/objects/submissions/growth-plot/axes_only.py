# Wrong: returns the Axes, not the Figure. An Axes is not a Figure and has no list of axes,
# and its .axes is itself, so nothing the tests read works: 0 of 3.
import marimo

app = marimo.App()

with app.setup:
    import matplotlib.pyplot as plt


@app.function
def plot_growth(years: list, values: list):
    fig, ax = plt.subplots()
    ax.plot(years, values)
    ax.set_title("Growth")
    ax.set_xlabel("year")
    ax.set_ylabel("value")
    return ax
