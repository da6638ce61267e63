# load_sales and top_products are right. revenue_by_region forgets to sort: it
# returns groupby's alphabetical order (Central, East, North, ...), so
# test_revenue_by_region (4 points) fails; test_revenue_by_region_two_regions
# passes by luck (South comes before West either way). Scored: the three
# unmarked tests, 2 each, and test_top_products, 2. Expected 8/12.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import pandas as pd


@app.function
def load_sales(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, parse_dates=["date"])
    df["revenue"] = df["units"] * df["unit_price"]
    return df


@app.function
def revenue_by_region(df: pd.DataFrame) -> pd.Series:
    return df.groupby("region")["revenue"].sum()


@app.function
def top_products(df: pd.DataFrame, n: int = 3) -> list:
    totals = df.groupby("product")["units"].sum()
    ranked = sorted(totals.index, key=lambda name: (-totals[name], name))
    return [str(name) for name in ranked[:n]]


if __name__ == "__main__":
    app.run()
