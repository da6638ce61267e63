# Trick: is_prime returns an instance of a class whose metaclass answers every isinstance()
# and issubclass() with True, and whose instances equal everything and are always true. In
# shared isolation the `== True` / `== False` test passes (3). In process isolation isinstance
# is decided by the tests' side from the class's real bases, and truth and comparisons with
# the tests' values are refused: 0.
import marimo

app = marimo.App()


@app.class_definition
class _Meta(type):
    def __instancecheck__(cls, obj):
        return True

    def __subclasscheck__(cls, sub):
        return True


@app.class_definition
class _Anything(metaclass=_Meta):
    def __bool__(self):
        return True

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


@app.function
def is_prime(n: int) -> bool:
    return _Anything()
