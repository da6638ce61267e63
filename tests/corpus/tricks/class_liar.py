# Trick: is_prime returns an object whose __class__ claims to be bool, whose truth is the right
# answer and which equals everything. In shared isolation it passes every naive test (9). In
# process isolation it stays in the student's sandbox as a handle whose class is its real
# class: asking its truth or comparing it with True fails each test: 0.
import marimo

app = marimo.App()

with app.setup:
    import math


@app.class_definition
class _Claim:
    def __init__(self, n):
        self.n = n

    @property
    def __class__(self):
        return bool

    def __bool__(self):
        return self.n > 1 and all(self.n % d for d in range(2, math.isqrt(self.n) + 1))

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


@app.function
def is_prime(n: int) -> bool:
    return _Claim(n)
