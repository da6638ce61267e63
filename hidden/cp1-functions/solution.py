# Reference solution of cp1-functions. Never staged for grading: the e2e tests
# check that no submission can read it (markbook-reference-solution-cp1).
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.function
def is_prime(n: int) -> bool:
    """Return True when n is a prime number, False otherwise."""
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0:
        return False
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
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


if __name__ == "__main__":
    app.run()
