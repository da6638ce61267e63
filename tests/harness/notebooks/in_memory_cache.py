import marimo

__generated_with = "0.19.7"
app = marimo.App(app_title="Cached work")


@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell
def _(mo):
    @mo.cache
    def slow_square(n: int):
        import time

        print("Computing")
        time.sleep(0.01)
        return n * n

    return (slow_square,)


@app.cell
def _(slow_square):
    first = slow_square(4)
    again = slow_square(4)
    return again, first


if __name__ == "__main__":
    app.run()
