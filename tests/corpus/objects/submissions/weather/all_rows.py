# Wrong: the mean over every reading, also those without a city: 3 of 4.
import marimo

app = marimo.App()

with app.setup:
    import pandas as pd

    readings = pd.DataFrame({
        "city": ["Oslo", None, "Rome", "Lima", "Oslo"],
        "temp": [3.5, 7.0, 18.25, 16.0, 4.5],
    })


@app.cell
def _():
    cleaned = readings.dropna().reset_index(drop=True)
    mean_temp = float(readings["temp"].mean())
    warmest = cleaned.loc[cleaned["temp"].idxmax(), "city"]
    return cleaned, mean_temp, warmest
