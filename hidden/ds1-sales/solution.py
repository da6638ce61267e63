# Reference solution of ds1-sales. Never staged for grading.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import pandas as pd


@app.function
def load_sales(path: str) -> pd.DataFrame:
    """Read the sales CSV file at `path`, with dates parsed and a revenue column."""
    df = pd.read_csv(path, parse_dates=["date"])
    df["revenue"] = (df["units"] * df["unit_price"]).astype(float)
    return df


@app.function
def revenue_by_region(df: pd.DataFrame) -> pd.Series:
    """Total revenue per region, largest first."""
    totals = df.groupby("region")["revenue"].sum().sort_values(ascending=False, kind="stable")
    totals.name = "revenue"
    totals.index.name = "region"
    return totals


@app.function
def top_products(df: pd.DataFrame, n: int = 3) -> list:
    """The n products with the most units sold, ties in alphabetical order."""
    units = df.groupby("product")["units"].sum()
    ranked = sorted(units.items(), key=lambda item: (-item[1], item[0]))
    return [str(name) for name, _ in ranked[:n]]


if __name__ == "__main__":
    app.run()
