# Wrong: a new name every time `name` is read. Fails test_name_sticks: 3 of 4.
import marimo

app = marimo.App()

with app.setup:
    import random
    import string


@app.class_definition
class Robot:
    @property
    def name(self):
        return ("".join(random.choices(string.ascii_uppercase, k=2))
                + "".join(random.choices(string.digits, k=3)))

    def reset(self):
        pass
