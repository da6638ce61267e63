# Trick: is_prime returns an object that equals everything, so `is_prime(7) == True` and
# `is_prime(8) == False` both hold. In shared isolation the naive `==` test passes; in process
# isolation the object cannot cross to the tests (only plain values do): 0.
import marimo

app = marimo.App()


@app.class_definition
class _Answer:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __bool__(self):
        return True


@app.function
def is_prime(n: int) -> bool:
    return _Answer()
