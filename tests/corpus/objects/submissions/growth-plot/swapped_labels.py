# Wrong: the axis labels swapped. Fails test_title_and_labels: 2 of 3.
import marimo

app = marimo.App()

with app.setup:
    import matplotlib.pyplot as plt


@app.function
def plot_growth(years: list, values: list):
    fig, ax = plt.subplots()
    ax.plot(years, values)
    ax.set_title("Growth")
    ax.set_xlabel("value")
    ax.set_ylabel("year")
    return fig
