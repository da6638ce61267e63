"""Hidden tests of ds1-sales.

Points: the marked tests score what their mark says; the three unmarked tests
share the rest of max_points (12 - 4 - 2 = 6), 2 each.
Expected values were computed by hand from the CSV files (see the comments).

load_sales is tested on the students' sales.csv (beyond the notebook's public
checks): with process isolation the notebook runs in a sandbox of its own that
has the exercise's data files but not hidden/, so a path to the hidden CSV would
mean nothing there. The other functions get the hidden data as DataFrames, built
here with pandas directly, so each function is graded on its own.
"""

from pathlib import Path

import pandas as pd
import pytest

from submission import load_sales, revenue_by_region, top_products

HERE = Path(__file__).parent
HIDDEN_CSV = HERE / "data" / "sales_hidden.csv"  # hidden data, never shown to students

COLUMNS = ["date", "region", "product", "units", "unit_price", "revenue"]


def hidden_frame() -> pd.DataFrame:
    """The hidden data as load_sales should return it, built without the student's code."""
    df = pd.read_csv(HIDDEN_CSV, parse_dates=["date"])
    df["revenue"] = df["units"] * df["unit_price"]
    return df


def test_load_sales_columns():
    """load_sales returns a DataFrame with the right columns, in order, and their types."""
    df = load_sales("sales.csv")  # the students' file, in the notebook's working directory
    assert type(df) is pd.DataFrame
    assert list(df.columns) == COLUMNS
    assert len(df) == 10
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    assert pd.api.types.is_integer_dtype(df["units"])
    assert pd.api.types.is_float_dtype(df["revenue"])


def test_load_sales_values():
    """load_sales keeps the file's row order and computes revenue = units * unit_price."""
    df = load_sales("sales.csv")
    assert df["date"].iloc[0] == pd.Timestamp("2026-01-05")
    assert df["date"].iloc[-1] == pd.Timestamp("2026-01-13")
    assert df["region"].tolist()[:4] == ["North", "South", "East", "West"]
    assert df["revenue"].tolist() == pytest.approx(
        [25.0, 48.0, 17.5, 60.0, 24.0, 30.0, 36.25, 15.0, 20.0, 58.0])
    assert int(df["units"].sum()) == 58


def test_revenue_by_region_two_regions():
    """revenue_by_region on a few hidden rows: two regions, largest first."""
    df = hidden_frame()
    two = df[df["region"].isin(["West", "South"])].reset_index(drop=True)
    result = revenue_by_region(two)
    assert type(result) is pd.Series
    assert list(result.index) == ["South", "West"]
    assert result.tolist() == pytest.approx([247.95, 125.0])


@pytest.mark.points(4)
def test_revenue_by_region():
    """revenue_by_region totals each region, largest first, as a named Series."""
    result = revenue_by_region(hidden_frame())
    assert type(result) is pd.Series
    assert result.name == "revenue"
    assert result.index.name == "region"
    # South 60+46.2+21.75+120, North 35+43.5+80+7.5+8.4, East 40+22.5+12+87,
    # West 0+84+21+20, Central 37.8 (a region that is not in sales.csv).
    assert list(result.index) == ["South", "North", "East", "West", "Central"]
    assert result.tolist() == pytest.approx([247.95, 174.4, 161.5, 125.0, 37.8])

    one = hidden_frame().iloc[[1, 5]]  # two North rows only
    single = revenue_by_region(one)
    assert list(single.index) == ["North"]
    assert single.tolist() == pytest.approx([78.5])


@pytest.mark.points(2)
def test_top_products():
    """top_products ranks by total units, breaks ties alphabetically, and handles any n."""
    df = hidden_frame()
    # Units: Sprocket 27, Widget 26, Doohickey 21, Gadget 13, Gizmo 13.
    result = top_products(df, 2)
    assert type(result) is list
    assert all(type(name) is str for name in result)
    assert result == ["Sprocket", "Widget"]
    assert top_products(df) == ["Sprocket", "Widget", "Doohickey"]
    assert top_products(df, 1) == ["Sprocket"]
    assert top_products(df, 4) == ["Sprocket", "Widget", "Doohickey", "Gadget"]
    assert top_products(df, 10) == ["Sprocket", "Widget", "Doohickey", "Gadget", "Gizmo"]
