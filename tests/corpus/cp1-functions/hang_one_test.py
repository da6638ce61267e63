# is_prime is correct but loops forever on negative numbers. test_small (0..3)
# passes: 5 points. test_edge asks is_prime(-7) first and hangs; the per-test
# time limit (pytest-timeout) fails that test alone: 0 points. Expected 5/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.function
def is_prime(n: int) -> bool:
    while n < 0:
        pass
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
