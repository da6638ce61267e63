# Hostile: leaves a daemon behind while loading: fork, setsid, fork again, and
# the grandchild sleeps 120 s holding every inherited descriptor (stdout,
# stderr, the report channel). The notebook itself loads and the function is
# correct, so the tests report normally: 10/10. markbook must not wait for the
# daemon past the time limit and must leave no process of the sandbox user.
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    import os
    import time

    try:
        _pid = os.fork()
        if _pid == 0:
            try:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(120)
            finally:
                os._exit(0)
        os.waitpid(_pid, 0)
    except OSError:
        pass


@app.function
def is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))


if __name__ == "__main__":
    app.run()
