# Correct, written differently from the reference: a name made on the fly, unique across
# all robots through a class-level set. Process isolation: 4 of 4.
import marimo

app = marimo.App()

with app.setup:
    import random
    import string


@app.class_definition
class Robot:
    taken = set()

    def __init__(self):
        self._name = None

    @property
    def name(self):
        if self._name is None:
            while True:
                candidate = ("".join(random.choices(string.ascii_uppercase, k=2))
                             + "".join(random.choices(string.digits, k=3)))
                if candidate not in Robot.taken:
                    break
            Robot.taken.add(candidate)
            self._name = candidate
        return self._name

    def reset(self):
        self._name = None
