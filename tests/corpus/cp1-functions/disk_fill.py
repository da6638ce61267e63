# Hostile: fills the disk while loading: 32 files of 8 MiB (each under the 16 MiB
# per-file limit), 256 MiB in all, half in the working directory and half in
# $TMPDIR, both inside the staging dir, and keeps them. That is more than the
# 64 MiB allowance, so markbook kills the run. The notebook then waits (as a long
# computation would) so that the kill comes while it is still loading, whenever
# markbook notices: no test has run, 0/10, "wrote more than". (Tests that finish
# before a kill keep their points, so without the wait the score would depend on
# how soon markbook looks. A markbook that never noticed would stop it at the
# time limit instead, and the message would be wrong.)
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os
    import time

    _block = b"F" * (1 << 20)
    for _i in range(32):
        _dir = "." if _i % 2 == 0 else os.environ.get("TMPDIR", ".")
        with open(os.path.join(_dir, f"fill-{_i:02d}.bin"), "wb") as _f:
            for _ in range(8):
                _f.write(_block)
    time.sleep(60)


@app.function
def is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
