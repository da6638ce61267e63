import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import matplotlib.pyplot as plt


@app.function
def plot_growth(years: list, values: list):
    """Return a Figure with one line of values against years."""
    fig, ax = plt.subplots()
    ax.plot(years, values)
    ax.set_title("Growth")
    ax.set_xlabel("year")
    ax.set_ylabel("value")
    return fig


if __name__ == "__main__":
    app.run()
