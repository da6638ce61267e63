# Hostile: a memory bomb while loading. It tries to fill 64 blocks of 64 MiB
# (4 GiB, written for real) against an address-space limit (512 MiB by default,
# 256 in the tests' course copy), so an
# allocation fails with MemoryError within the first few blocks. The exception
# leaves the setup block: the notebook does not load, 0/10, and the message names
# MemoryError. (Without the limit the bomb stops at 4 GiB, the notebook loads and
# the correct function would score 10, so a missing limit shows.)
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo

    def _hog():
        chunks = []
        for _ in range(64):
            chunks.append(b"x" * (64 << 20))
        return len(chunks)

    HELD = _hog()


@app.function
def is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
