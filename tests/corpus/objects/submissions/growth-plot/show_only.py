# Wrong: shows the plot and returns nothing, as a script would: 0 of 3.
import marimo

app = marimo.App()

with app.setup:
    import matplotlib.pyplot as plt


@app.function
def plot_growth(years: list, values: list):
    plt.plot(years, values)
    plt.title("Growth")
    plt.xlabel("year")
    plt.ylabel("value")
    plt.show()
