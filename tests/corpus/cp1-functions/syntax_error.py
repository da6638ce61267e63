# A colon is missing on line 13 (`if n < 2`). The file does not parse, so
# nothing runs: 0/10 and a message that names line 13.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo

@app.function
def is_prime(n: int) -> bool:
    if n < 2
        return False
    for d in range(2, n):
        if n % d == 0:
            return False
    return True


if __name__ == "__main__":
    app.run()
