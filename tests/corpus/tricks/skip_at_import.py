# Trick: call pytest.skip() while the notebook is imported, hoping a skipped module counts as
# passed. It never does: skipped tests score 0, and in process isolation pytest is not even
# importable from the student's sandbox. The function is wrong anyway: 0.
import marimo

app = marimo.App()

with app.setup:
    import pytest

    pytest.skip("nothing to see here", allow_module_level=True)


@app.function
def is_prime(n: int) -> bool:
    return False
