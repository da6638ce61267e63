# Hostile: is_prime ends the Python process with status 0 (os._exit) the first
# time a test calls it, hoping that a clean exit reads as success. 0/10 either
# way, and a message says the process stopped: in "shared" isolation the test
# run itself ends and no test reports a result (the run's message); in
# "process" isolation the notebook's own process ends and the test that called
# is_prime fails with that message.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os


@app.function
def is_prime(n: int) -> bool:
    os._exit(0)
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
