# Trick: is_prime returns a str subclass: "yes" for a prime, "" otherwise, so its truth is
# right, and it equals everything. In shared isolation it passes every naive test (9); in
# process isolation a subclass of str is not a str: it stays in the student's sandbox and the
# tests' truth tests and comparisons fail: 0.
import marimo

app = marimo.App()

with app.setup:
    import math


@app.class_definition
class _Word(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


@app.function
def is_prime(n: int) -> bool:
    prime = n > 1 and all(n % d for d in range(2, math.isqrt(n) + 1))
    return _Word("yes" if prime else "")
