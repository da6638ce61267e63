# Trick: monkeypatch _pytest.reports at import so that every test report says "passed".
# Shared isolation notices the tampering: 0. Process isolation: there is no pytest in the
# student's sandbox, so the import fails and the notebook does not load: 0.
import marimo

app = marimo.App()

with app.setup:
    import _pytest.reports

    _original = _pytest.reports.TestReport.from_item_and_call

    def _always_pass(item, call):
        report = _original(item, call)
        report.outcome = "passed"
        return report

    _pytest.reports.TestReport.from_item_and_call = staticmethod(_always_pass)


@app.function
def is_prime(n: int) -> bool:
    return False
