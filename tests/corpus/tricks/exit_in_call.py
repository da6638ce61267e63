# Not a trick: is_prime ends its own process for 2, which test_small asks first, and is right
# otherwise. In shared isolation that ends the whole test run: 0. In process isolation only the
# student's worker dies; test_small fails and a fresh worker answers the rest: 6/9.
import marimo

app = marimo.App()

with app.setup:
    import os


@app.function
def is_prime(n: int) -> bool:
    if n == 2:
        os._exit(3)
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))
