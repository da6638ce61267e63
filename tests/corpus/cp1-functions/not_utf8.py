# Saved as Latin-1 by an old editor: the byte 0xE9 in "Résumé" is not UTF-8, so
# the file is refused before anything runs: 0/10, and the message says UTF-8.
# Résumé: otherwise a correct is_prime.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.function
def is_prime(n: int) -> bool:
    if n < 2:
        return False
    for d in range(2, n):
        if n % d == 0:
            return False
    return True


if __name__ == "__main__":
    app.run()
