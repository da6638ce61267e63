"""Process isolation (issue 2/7): tricks that fool a grader sharing one Python process with
the student's code score what the honest work deserves when the notebook and the hidden tests
run in separate sandboxes, and no hidden test byte is readable from the student's side.

Each trick in tests/corpus/tricks is graded twice, against hidden tests written the naive way
(`== True`, bare truth tests): once in shared isolation, to show the trick really works there
(so a 0 in process isolation means something), and once in process isolation.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from markbook_e2e import REPO, markbook_path

TRICKS = REPO / "tests" / "corpus" / "tricks"

# (file, score in shared isolation, score in process isolation); 9 points, 3 per test.
EXPECTED = [
    ("always_equal.py", 3, 0),      # == passes in shared; in process its __eq__ is not asked
    ("class_liar.py", 9, 0),        # __class__ says bool, truth right, equals everything
    ("str_subclass.py", 9, 0),      # a str subclass: truth right, equals everything
    ("instancecheck_liar.py", 3, 0),  # a metaclass says isinstance() of anything
    ("frame_bool.py", 9, 0),        # reads the asserting line through the caller's frame
    ("inspect_stack.py", 9, 0),     # reads the test source through inspect.stack()
    ("patch_reports.py", 0, 0),     # shared: tampering seen; process: no pytest to patch
    ("skip_at_import.py", 0, 0),
    ("atexit_exit.py", 0, 0),
    ("keyboard_interrupt.py", 3, 6),  # shared: the interrupt ends the session
    ("hunt_hidden.py", 0, 9),       # shared: finds the tests and raises with them
    ("hang_then_ok.py", 6, 6),      # a hang fails one test; a fresh worker runs the rest
    ("exit_in_call.py", 0, 6),      # shared: the run ends; process: the worker is replaced
    ("correct.py", 9, 9),           # the control
]

NAIVE_TESTS = '''# {canary}
from submission import is_prime


def test_small():
    """Small numbers."""
    assert is_prime(2) and is_prime(3)
    assert not is_prime(1) and not is_prime(0)


def test_edge():
    """A negative number, a larger prime and its neighbour."""
    assert not is_prime(-7)
    assert is_prime(7919)
    assert not is_prime(7920)


def test_equal():
    """Written the naive way, with == True."""
    assert is_prime(7) == True  # noqa: E712
    assert is_prime(8) == False  # noqa: E712
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """{isolation: {file: result}} for every trick, graded with markbook in one call per
    isolation mode, plus the canary planted in the hidden tests."""
    if not markbook_path().is_file():
        pytest.skip(f"no markbook binary at {markbook_path()}")
    root = tmp_path_factory.mktemp("isolation")
    canary = "canary-" + secrets.token_hex(12)
    subs = root / "subs"
    subs.mkdir()
    for name, _, _ in EXPECTED:
        source = (REPO / "tests" / "corpus" / "cp1-functions" / "correct.py"
                  if name == "correct.py" else TRICKS / name).read_text()
        (subs / name).write_text(source.replace("@CANARY@", canary[::-1]))
    results: dict[str, dict[str, dict]] = {"canary": canary}  # type: ignore[dict-item]
    for isolation in ("shared", "process"):
        course = root / isolation
        (course / "exercises" / "naive").mkdir(parents=True)
        (course / "hidden" / "naive").mkdir(parents=True)
        shutil.copy(REPO / "exercises" / "cp1-functions" / "cp1-functions.py",
                    course / "exercises" / "naive" / "naive.py")
        (course / "exercises" / "naive" / "exercise.json").write_text(json.dumps({
            "title": "Naive tests", "phase": 2, "max_points": 9, "timeout_s": 20,
            "test_timeout_s": 4, "isolation": isolation}))
        (course / "hidden" / "naive" / "test_naive.py").write_text(
            NAIVE_TESTS.format(canary=canary))
        files = [str(subs / name) for name, _, _ in EXPECTED]
        proc = subprocess.run(
            [str(markbook_path()), "grade", "--course", str(course), "--exercise", "naive",
             "--json", "--jobs", "2", *files],
            capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        results[isolation] = {Path(r["file"]).name: r for r in json.loads(proc.stdout)}
        results[isolation + "-stdout"] = proc.stdout  # type: ignore[assignment]
    return results


@pytest.mark.parametrize("name,shared,process", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_trick_scores_what_the_honest_work_deserves(graded, name, shared, process):
    assert graded["process"][name]["status"] == "done", graded["process"][name]
    assert graded["process"][name]["score"] == process, graded["process"][name]
    assert graded["shared"][name]["score"] == shared, graded["shared"][name]


def test_no_hidden_test_byte_is_readable_from_the_student_sandbox(graded):
    canary = graded["canary"]
    # The hunt works: where the notebook shares the tests' sandbox, it finds them.
    assert canary in graded["shared-stdout"]
    # In process isolation it finds nothing, and the function's honest answers count.
    assert canary not in graded["process-stdout"]
    assert graded["process"]["hunt_hidden.py"]["score"] == 9


def test_a_value_that_cannot_cross_says_which_type(graded):
    messages = [t["message"] for t in graded["process"]["always_equal.py"]["tests"]]
    assert all("is_prime returned a _Answer where the tests expect" in m
               and "return a bool" in m and "cannot be sent between the sandboxes" in m
               for m in messages), messages
    messages = [t["message"] for t in graded["process"]["str_subclass.py"]["tests"]]
    assert all("is_prime returned a _Word" in m for m in messages), messages


def test_an_interrupt_fails_only_the_test_that_caused_it(graded):
    tests = {t["name"]: t for t in graded["process"]["keyboard_interrupt.py"]["tests"]}
    assert tests["test_small"]["passed"] and tests["test_equal"]["passed"]
    assert not tests["test_edge"]["passed"]
    assert "KeyboardInterrupt" in tests["test_edge"]["message"]


PROXY_SCAFFOLD = '''import marimo

app = marimo.App()

with app.setup:
    import pandas as pd


@app.function
def sort_in_place(xs: list) -> None:
    """Sort xs in place."""


@app.function
def add_total(df: pd.DataFrame) -> None:
    """Add a column "total" = a + b to df, in place."""


@app.function
def shout(word: str) -> str:
    """Print the word in capitals and return it; refuse an empty word with ValueError."""
    return ""


@app.function
def summary(df: pd.DataFrame) -> pd.Series:
    """The sum of every column."""
'''

PROXY_SOLUTION = '''import marimo

app = marimo.App()

with app.setup:
    import pandas as pd


@app.function
def sort_in_place(xs: list) -> None:
    xs.sort()


@app.function
def add_total(df: pd.DataFrame) -> None:
    df["total"] = df["a"] + df["b"]


@app.function
def shout(word: str) -> str:
    if not word:
        raise ValueError("empty word")
    print(word.upper())
    return word.upper()


@app.function
def summary(df: pd.DataFrame) -> pd.Series:
    return df.sum()
'''

PROXY_TESTS = '''import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from submission import add_total, shout, sort_in_place, summary


def test_list_changed_in_place():
    xs = [3, 1, 2]
    assert sort_in_place(xs) is None
    assert xs == [1, 2, 3]


def test_frame_changed_in_place():
    df = pd.DataFrame({"a": [1, 2], "b": [10, 20]}, index=["x", "y"])
    add_total(df)
    assert_frame_equal(df, pd.DataFrame({"a": [1, 2], "b": [10, 20], "total": [11, 22]},
                                        index=["x", "y"]))


def test_printed_output_reaches_capsys(capsys):
    assert shout("hi") == "HI"
    assert capsys.readouterr().out == "HI\\n"


def test_exception_has_its_builtin_type():
    with pytest.raises(ValueError, match="empty word"):
        shout("")


def test_frame_in_series_out():
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})
    assert_series_equal(summary(df), pd.Series({"a": 3, "b": 0.75}))


def test_names_of_every_kind_come_from_the_notebook():
    import submission
    from submission import pd as their_pd
    assert their_pd.__name__ == "pandas"  # a module: a handle, whose name is data
    with pytest.raises(AttributeError):
        getattr(submission, "not_" + "there")
'''


def test_the_proxy_carries_frames_in_place_changes_output_and_exceptions(tmp_path):
    if not markbook_path().is_file():
        pytest.skip(f"no markbook binary at {markbook_path()}")
    (tmp_path / "exercises" / "proxy").mkdir(parents=True)
    (tmp_path / "hidden" / "proxy").mkdir(parents=True)
    (tmp_path / "exercises" / "proxy" / "proxy.py").write_text(PROXY_SCAFFOLD)
    (tmp_path / "exercises" / "proxy" / "exercise.json").write_text(json.dumps(
        {"title": "Proxy", "phase": 2, "max_points": 6, "timeout_s": 30, "test_timeout_s": 8}))
    (tmp_path / "hidden" / "proxy" / "test_proxy.py").write_text(PROXY_TESTS)
    solution = tmp_path / "solution.py"
    solution.write_text(PROXY_SOLUTION)
    proc = subprocess.run(
        [str(markbook_path()), "grade", "--course", str(tmp_path), "--exercise", "proxy",
         "--json", str(solution), str(tmp_path / "exercises" / "proxy" / "proxy.py")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    solved, scaffold = json.loads(proc.stdout)
    assert {t["name"]: t["passed"] for t in solved["tests"]} == {
        "test_list_changed_in_place": True, "test_frame_changed_in_place": True,
        "test_printed_output_reaches_capsys": True, "test_exception_has_its_builtin_type": True,
        "test_frame_in_series_out": True, "test_names_of_every_kind_come_from_the_notebook": True,
    }, solved
    assert solved["score"] == 6
    # The unchanged scaffold fails all but the names, which do not depend on its functions.
    assert scaffold["score"] == 1, scaffold


def test_a_hang_or_a_crash_fails_one_test_and_a_fresh_worker_runs_the_rest(graded):
    for name, why in (("hang_then_ok.py", "did not return within 4 s"),
                      ("exit_in_call.py", "stopped its Python process during is_prime()")):
        tests = {t["name"]: t for t in graded["process"][name]["tests"]}
        assert not tests["test_small"]["passed"], tests
        assert why in tests["test_small"]["message"], tests
        assert tests["test_edge"]["passed"] and tests["test_equal"]["passed"], tests
