# The reference solution as a student would hand it in: 10/10.
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
        # The hockey roster

        `data/canucks.csv` (in the folder `data` next to this notebook) has one row per
        player of a hockey team: name, number, position, handedness, age, height (cm),
        weight (kg), country and salary (dollars). Write the three functions below; keep
        their names and parameters.
        """
    )
    return


@app.function
def load_players() -> pd.DataFrame:
    """Read data/canucks.csv and return it as a DataFrame, rows and columns as in the file."""
    return pd.read_csv("data/canucks.csv")


@app.function
def top_earners(df: pd.DataFrame, n: int) -> list:
    """The names (column Player) of the `n` best-paid players of `df`, best paid first.

    Players with the same salary come in alphabetical order.
    """
    ranked = df.sort_values(["Salary", "Player"], ascending=[False, True])
    return ranked["Player"].head(n).tolist()


@app.function
def mean_age_by_position(df: pd.DataFrame) -> pd.Series:
    """The mean age per position of `df`: a Series indexed by position (index name
    "Position"), named "Age", sorted by position."""
    return df.groupby("Position")["Age"].mean().sort_index()


@app.cell
def _():
    players = load_players()
    players.head()
    return (players,)


if __name__ == "__main__":
    app.run()
