# The function was renamed to isPrime, so `from submission import is_prime`
# finds nothing (not at the top level, not in any cell). Nothing can be graded:
# 0/10, and the message names is_prime and says it must be a top-level function.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.function
def isPrime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
