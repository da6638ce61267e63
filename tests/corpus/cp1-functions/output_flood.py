# Hostile: floods stdout and stderr while loading: 8 MiB of lines to each and 3 MB
# without a newline straight to fd 1, 19 MiB in all. markbook keeps reading its
# pipes and keeps only the first 64 KiB; the flood stays under the 64 MiB disk
# allowance even if pytest spools captured output to a file in the staging dir.
# Nothing blocks, the notebook loads and the function is correct: 10/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os
    import sys

    _chunk = ("FLOOD " * 20 + "\n") * 8192  # about 1 MiB
    for _ in range(8):
        sys.stdout.write(_chunk)
        sys.stderr.write(_chunk)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, b"RAW" * 1_000_000)


@app.function
def is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
