# A correct ds1-sales submission, written differently from the reference
# (dtype conversions, sort_values with a tie-breaker). Expected 12/12.
import marimo

__generated_with = "0.13.0"
app = marimo.App(width="medium")

with app.setup:
    import marimo as mo
    import pandas as pd


@app.function
def load_sales(path: str) -> pd.DataFrame:
    df = pd.read_csv(path)
    df["date"] = pd.to_datetime(df["date"])
    df["units"] = df["units"].astype("int64")
    df["revenue"] = df["units"] * df["unit_price"].astype(float)
    return df


@app.function
def revenue_by_region(df: pd.DataFrame) -> pd.Series:
    totals = df.groupby("region", sort=True)["revenue"].sum()
    return totals.sort_values(ascending=False).rename("revenue").rename_axis("region")


@app.function
def top_products(df: pd.DataFrame, n: int = 3) -> list:
    units = df.groupby("product")["units"].sum().reset_index()
    units = units.sort_values(["units", "product"], ascending=[False, True])
    return units["product"].head(n).tolist()


@app.cell
def _():
    _df = load_sales("sales.csv")
    mo.vstack([mo.md("## Revenue by region"), revenue_by_region(_df)])
    return


if __name__ == "__main__":
    app.run()
