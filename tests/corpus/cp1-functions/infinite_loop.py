# The setup block never finishes (a `while True` with no break), so the notebook
# never loads and no test runs. markbook kills the run at the exercise's time
# limit: 0/10, and the message says "time limit".
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo

    counter = 0
    while True:
        counter += 1


@app.function
def is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
