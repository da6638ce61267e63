# Not a trick: is_prime hangs for 2, which test_small asks first, and is right otherwise. The
# hanging test fails at the per-test limit; in process isolation the student's worker is then
# replaced and the later tests run against a fresh one: 6/9 in both modes.
import marimo

app = marimo.App()


@app.function
def is_prime(n: int) -> bool:
    while n == 2:
        pass
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))
