# The correct ds1-sales functions as a plain Python file, no marimo: what bare
# pytest imports in tools/bench-grade's baseline for the pandas exercise.
import pandas as pd


def load_sales(path: str) -> pd.DataFrame:
    df = pd.read_csv(path)
    df["date"] = pd.to_datetime(df["date"])
    df["units"] = df["units"].astype("int64")
    df["revenue"] = df["units"] * df["unit_price"].astype(float)
    return df


def revenue_by_region(df: pd.DataFrame) -> pd.Series:
    totals = df.groupby("region", sort=True)["revenue"].sum()
    return totals.sort_values(ascending=False).rename("revenue").rename_axis("region")


def top_products(df: pd.DataFrame, n: int = 3) -> list:
    units = df.groupby("product")["units"].sum().reset_index()
    units = units.sort_values(["units", "product"], ascending=[False, True])
    return units["product"].head(n).tolist()
