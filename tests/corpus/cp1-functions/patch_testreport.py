# Hostile: patches pytest's TestReport while loading so that every report it
# builds says "passed". is_prime is wrong (always True), so the patch is the
# only way to score: 0/10 in both isolation modes.
# - "process" isolation (the default): no pytest in the notebook's sandbox; the
#   import fails, nothing is patched, both tests fail normally.
# - "shared" isolation (the e2e tests grade this file that way too): the
#   plugin finds the replaced class internals and reports tampering, which
#   scores the whole run 0, "tamper".
import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    try:
        from _pytest.reports import TestReport
    except ImportError:  # no pytest next to the notebook: nothing to patch
        TestReport = None

    if TestReport is not None:
        _original_init = TestReport.__init__

        def _init(self, *args, **kwargs):
            _original_init(self, *args, **kwargs)
            self.outcome = "passed"
            self.longrepr = None

        TestReport.__init__ = _init


@app.function
def is_prime(n: int) -> bool:
    return True


if __name__ == "__main__":
    app.run()
