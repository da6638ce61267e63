# Trick: raise KeyboardInterrupt in the middle of the run, which stops a pytest session. The
# function is otherwise correct. In process isolation the interrupt stays in the student's
# process and fails only the test that caused it (test_edge, through is_prime(7919));
# test_small still earns its 5 points: 5/10, what the honest work deserves.
import marimo

app = marimo.App()


@app.function
def is_prime(n: int) -> bool:
    if n == 7919:
        raise KeyboardInterrupt
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))
