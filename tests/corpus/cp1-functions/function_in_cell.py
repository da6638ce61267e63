# is_prime sits inside an @app.cell because it reads SMALL_PRIMES, a variable of
# another cell (marimo keeps such functions in their cell; students do this by
# accident). It is not importable as it stands; the loader's fallback runs the
# cells in dependency order, as `marimo export script` would, and finds it.
# The function is correct: 10/10, and the message advises an @app.function.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.cell
def _():
    SMALL_PRIMES = (2, 3, 5, 7)
    return (SMALL_PRIMES,)


@app.cell
def _(is_prime):
    mo.md(f"is_prime(97) = {is_prime(97)}")
    return


@app.cell
def _(SMALL_PRIMES):
    def is_prime(n: int) -> bool:
        if n < 2:
            return False
        for p in SMALL_PRIMES:
            if n % p == 0:
                return n == p
        d = 11
        while d * d <= n:
            if n % d == 0:
                return False
            d += 2
        return True
    return (is_prime,)


if __name__ == "__main__":
    app.run()
