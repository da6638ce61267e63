import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import pandas as pd


@app.cell
def _():
    mo.md(
        r"""
        # Sales by region

        `sales.csv` (next to this notebook) has one row per sale with the columns
        `date`, `region`, `product`, `units` and `unit_price`. Write the three functions
        below; keep their names and parameters. The box at the bottom checks a few things
        on `sales.csv` every time you change the code. Your grade comes from other data too.
        """
    )
    return


@app.function
def load_sales(path: str) -> pd.DataFrame:
    """Read the sales CSV file at `path`.

    Return a DataFrame with the rows in the file's order and the columns
    date, region, product, units, unit_price and revenue, in that order:
    `date` parsed as dates (datetime64), `units` whole numbers, and a new
    column `revenue` = units * unit_price (float).
    """
    # your code here
    return pd.DataFrame()


@app.function
def revenue_by_region(df: pd.DataFrame) -> pd.Series:
    """Total revenue per region of `df` (a DataFrame as load_sales returns it).

    Return a Series named "revenue", indexed by region (index name "region"),
    sorted from the largest total to the smallest.
    """
    # your code here
    return pd.Series(dtype=float)


@app.function
def top_products(df: pd.DataFrame, n: int = 3) -> list:
    """The names of the `n` products with the most units sold in total.

    Return a list of str, most units first; products with the same total
    come in alphabetical order. When there are fewer than `n` products,
    return all of them.
    """
    # your code here
    return []


@app.cell
def _():
    def _safe(check):
        try:
            return bool(check())
        except Exception:
            return False

    def _checks():
        df = load_sales("sales.csv")
        return [
            ("load_sales reads 10 rows", lambda: len(df) == 10),
            ("the first row's revenue is 25.0", lambda: df["revenue"].iloc[0] == 25.0),
            ("South has the most revenue", lambda: revenue_by_region(df).index[0] == "South"),
            ("South's revenue is 136.0", lambda: revenue_by_region(df)["South"] == 136.0),
            (
                "the top 2 products are Widget and Doohickey",
                lambda: top_products(df, 2) == ["Widget", "Doohickey"],
            ),
        ]

    try:
        _cases = _checks()
    except Exception as _e:
        _cases = [(f"load_sales('sales.csv') raised {type(_e).__name__}: {_e}", lambda: False)]
    _results = [(_label, _safe(_check)) for _label, _check in _cases]
    _passed = sum(_ok for _, _ok in _results)
    mo.callout(
        mo.md(
            f"**{_passed}/{len(_results)} public checks passing**\n\n"
            + "\n".join(f"- {'✅' if _ok else '❌'} {_label}" for _label, _ok in _results)
        ),
        kind="success" if _passed == len(_results) else "warn",
    )
    return


if __name__ == "__main__":
    app.run()
