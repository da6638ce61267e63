import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import random
    import string


@app.cell
def _():
    import marimo as mo
    mo.md(
        r"""
        # Robot name

        When a robot comes off the factory floor it has no name. The first time you ask for
        its `name`, it makes up a random one: two uppercase letters and three digits, such as
        `RX837`. `reset()` wipes the name; the next time you ask, it makes up a new one. Every
        robot has a name no other robot has.
        """
    )
    return


@app.class_definition
class Robot:
    def __init__(self):
        pass

    @property
    def name(self):
        raise NotImplementedError("give the robot a name")

    def reset(self):
        raise NotImplementedError("give the robot a new name")


if __name__ == "__main__":
    app.run()
