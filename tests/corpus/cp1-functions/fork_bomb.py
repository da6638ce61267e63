# Hostile: a fork bomb while loading. It forks up to 200 children that each
# sleep 60 s (a bounded bomb, so that a missing limit cannot take the host down).
# The sandbox user may have 64 processes, so fork fails with EAGAIN well before
# 200 and the bomb stops. If 100 or more forks succeeded the limit is missing and
# is_prime answers wrong. The sleeping children keep the sandbox alive until the
# whole-run time limit; every test has already reported by then, and markbook
# must leave no process behind. The function is correct: 10/10.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os
    import time

    CHILDREN = 0
    for _ in range(200):
        try:
            _pid = os.fork()
        except OSError:  # EAGAIN: the process limit is reached
            break
        if _pid == 0:
            try:
                time.sleep(60)
            finally:
                os._exit(0)
        CHILDREN += 1


@app.function
def is_prime(n: int) -> bool:
    correct = n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))
    return correct if CHILDREN < 100 else not correct


if __name__ == "__main__":
    app.run()
