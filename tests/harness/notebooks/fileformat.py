import marimo

__generated_with = "0.19.7"
app = marimo.App()

with app.setup:
    import dataclasses
    import random


@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Dice

    A notebook whose functions and classes can be imported.
    """)
    return


@app.function
def throw():
    """
    One throw of a six-sided die.
    """
    return random.randint(1, 6)


@app.class_definition
@dataclasses.dataclass
class Experiment:
    throws: int

    def run(self) -> list[int]:
        return [throw() for _ in range(self.throws)]


@app.cell
def _():
    sides = 6
    return (sides,)


@app.cell
def cell_with_a_name(sides):
    def fair_chance():
        """Needs `sides` from another cell, so marimo does not expose it."""
        return 1 / sides

    return


@app.cell
def _():
    with open(__file__, "r", encoding="utf-8") as f:
        own_source = f.read()
    return (own_source,)


if __name__ == "__main__":
    app.run()
