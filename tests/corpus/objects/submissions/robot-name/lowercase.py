# Wrong: random names in lowercase (ab123). Fails both format checks: 2 of 4.
import marimo

app = marimo.App()

with app.setup:
    import random
    import string


@app.class_definition
class Robot:
    def __init__(self):
        self.reset()

    def reset(self):
        self.name = ("".join(random.choices(string.ascii_lowercase, k=2))
                     + "".join(random.choices(string.digits, k=3)))
