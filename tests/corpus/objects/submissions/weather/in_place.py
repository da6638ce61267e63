# Wrong: drops the rows of `readings` itself, in place, and keeps the old index. Fails
# test_readings_untouched and test_cleaned: 2 of 4.
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
    readings.dropna(inplace=True)
    cleaned = readings
    mean_temp = float(cleaned["temp"].mean())
    warmest = cleaned.loc[cleaned["temp"].idxmax(), "city"]
    return cleaned, mean_temp, warmest
