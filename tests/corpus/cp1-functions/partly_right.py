# Forgets negative numbers: every n below 2 except 0 and 1 counts as prime (the
# loop never runs for them). test_small only checks 0..3, so it passes (5 points);
# test_edge asks is_prime(-7) and fails (0 points). Expected 5/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.function
def is_prime(n: int) -> bool:
    if n == 0 or n == 1:
        return False
    for d in range(2, n):
        if n % d == 0:
            return False
    return True


if __name__ == "__main__":
    app.run()
