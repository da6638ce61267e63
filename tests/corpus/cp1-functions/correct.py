# A correct submission: trial division up to the square root. Expected 10/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App(width="medium")

with app.setup:
    import marimo as mo
    import math


@app.function
def is_prime(n: int) -> bool:
    """Return True when n is a prime number, False otherwise."""
    if n < 2:
        return False
    for d in range(2, math.isqrt(n) + 1):
        if n % d == 0:
            return False
    return True


@app.cell
def _():
    def _safe(check):
        try:
            return bool(check())
        except Exception:
            return False

    _cases = [(2, True), (4, False), (17, True), (1, False)]
    _results = [
        (f"is_prime({_n}) == {_expected}", _safe(lambda _n=_n, _e=_expected: is_prime(_n) is _e))
        for _n, _expected in _cases
    ]
    _passed = sum(_ok for _, _ok in _results)
    mo.callout(
        mo.md(
            f"**{_passed}/{len(_results)} public checks passing**\n\n"
            + "\n".join(f"- {'✅' if _ok else '❌'} `{_label}`" for _label, _ok in _results)
        ),
        kind="success" if _passed == len(_results) else "warn",
    )
    return


@app.cell
def _():
    mo.md(r"""Scratch: `is_prime(97)` is shown below.""")
    return


@app.cell
def _():
    is_prime(97)
    return


if __name__ == "__main__":
    app.run()
