# Correct, written differently: boolean indexing and a sort, all in one cell. Process
# isolation: 4 of 4.
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
    cleaned = readings[readings["city"].notna()].copy()
    cleaned.index = pd.RangeIndex(len(cleaned))
    mean_temp = float(cleaned["temp"].sum()) / len(cleaned)
    warmest = cleaned.sort_values("temp", ascending=False)["city"].iloc[0]
    return cleaned, mean_temp, warmest
