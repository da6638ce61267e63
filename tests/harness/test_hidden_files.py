"""Hidden folders as teachers bring them (shared isolation, the harness alone): helper modules
and conftest.py in hidden/, subfolders, pytest's `*_test.py` names, and the submission's own
text beside the tests, which is read but never imported nor taken for a test."""

from __future__ import annotations

from pathlib import Path

from conftest import SETUP, Stage, marimo_notebook, run_harness

# is_prime left in a cell: found only when the tests' files say they need it.
IN_CELL = marimo_notebook(SETUP, """
@app.cell
def _():
    def is_prime(n):
        return n > 1 and all(n % d for d in range(2, n))
    return (is_prime,)
""")

HELPER = """
from submission import is_prime


def primes_below(n):
    return [k for k in range(n) if is_prime(k)]
"""

TESTS = """
from pathlib import Path

from checks.primes import primes_below


def test_primes(few):
    assert primes_below(10) == few


def test_source():
    here = Path(__file__).parent / "submission.py"
    assert here.read_text() == open("submission.py").read()
    assert "def is_prime" in here.read_text()
"""

CONFTEST = """
import pytest


@pytest.fixture
def few():
    return [2, 3, 5, 7]
"""


def stage_hidden(stage: Stage, notebook: str) -> Path:
    """The layout markbook stages: a helper module in a subfolder of hidden/, a conftest.py,
    an Exercism-style test file name, and the notebook's text as hidden/submission.py."""
    staging = stage(notebook, {"primes_test.py": TESTS, "conftest.py": CONFTEST})
    (staging / "hidden" / "checks").mkdir()
    (staging / "hidden" / "checks" / "primes.py").write_text(HELPER)
    (staging / "hidden" / "submission.py").write_text(notebook)
    return staging


def test_names_needed_by_a_helper_in_a_subfolder_are_found_in_cells(stage: Stage) -> None:
    report = run_harness(stage_hidden(stage, IN_CELL))
    load = report.one("load")
    assert load["ok"] is True
    assert load["message"].startswith("is_prime ran inside a cell"), load
    assert report.outcomes() == {"primes_test.py::test_primes": "passed",
                                 "primes_test.py::test_source": "passed"}


def test_the_submissions_own_imports_are_not_needed_names(stage: Stage) -> None:
    """hidden/submission.py is the student's text: what it imports from `submission` does not
    become a name the notebook must define (it would fail the load, or run cells)."""
    notebook = IN_CELL.replace("import math", "import math\n    import submission\n"
                               "    _x = getattr(submission, 'anything', None)\n"
                               "    submission.never_defined if False else None")
    report = run_harness(stage_hidden(stage, notebook))
    load = report.one("load")
    assert load["ok"] is True and "never_defined" not in load["message"], load
    assert report.outcomes()["primes_test.py::test_primes"] == "passed"


def test_helpers_and_the_submissions_text_are_not_collected(stage: Stage) -> None:
    report = run_harness(stage_hidden(stage, IN_CELL), mode="collect")
    assert [p["nodeid"] for p in report.all("plan")] == ["primes_test.py::test_primes",
                                                         "primes_test.py::test_source"]
