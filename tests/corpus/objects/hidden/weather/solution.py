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
    cleaned = readings.dropna(subset=["city"]).reset_index(drop=True)
    return (cleaned,)


@app.cell
def _(cleaned):
    mean_temp = float(cleaned["temp"].mean())
    return (mean_temp,)


@app.cell
def _(cleaned):
    warmest = cleaned.loc[cleaned["temp"].idxmax(), "city"]
    return (warmest,)


if __name__ == "__main__":
    app.run()
