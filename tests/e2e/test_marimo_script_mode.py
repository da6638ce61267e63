"""marimo's script mode through the real binary (issue 13, findings 9 and 10; issue 14, item
10): a notebook that reads a UI element's value and iterates a progress bar in its setup cell
scores what its answers deserve; functions left in cells are found the same way in shared and
process isolation, also when a test reaches them with getattr(); and a notebook too deep for
the harness is graded `done` with 0 and a sentence, never `error`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from markbook_e2e import markbook_path

SCAFFOLD = '''import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.function
def target_sum(numbers, target):
    """Whether two different items of `numbers` add up to `target`."""
    return False


@app.function
def total(xs):
    """The sum of `xs`."""
    return 0


if __name__ == "__main__":
    app.run()
'''

TESTS = '''import submission
from submission import total


def test_total():
    """Sums."""
    assert total([1, 2, 3]) == 6
    assert total([]) == 0


def test_target_sum():
    """Pairs, reached the way some courses write it."""
    target_sum = getattr(submission, "target_sum")
    assert target_sum([1, 2, 3], 5) is True
    assert target_sum([1, 2, 3], 6) is False
'''

# The reasons a correct student scored 0 before: a slider's value, notebook_dir() and a
# progress bar in the setup cell.
UI_SETUP = '''import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo
    STEP = mo.ui.slider(1, 10, value=1).value
    HERE = mo.notebook_dir()
    ASSERTED = (HERE / "submission.py").exists()
    SQUARES = [n * n for n in mo.status.progress_bar(range(4))]


@app.function
def target_sum(numbers, target):
    return any(a + b == target for i, a in enumerate(numbers) for b in numbers[i + STEP:])


@app.function
def total(xs):
    acc = 0
    for x in mo.status.progress_bar(xs, title="Adding"):
        acc += x
    return acc if ASSERTED and SQUARES == [0, 1, 4, 9] else -1


if __name__ == "__main__":
    app.run()
'''

IN_CELLS = '''import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import marimo as mo


@app.cell
def _():
    def target_sum(numbers, target):
        seen = set()
        for n in numbers:
            if target - n in seen:
                return True
            seen.add(n)
        return False
    return


@app.cell
def _():
    def total(xs):
        return sum(xs)
    return


if __name__ == "__main__":
    app.run()
'''

TOO_DEEP = SCAFFOLD.replace('    return 0\n', '    return xs' + '.real' * 1500 + '\n')


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """{isolation: {file name: result}}, each isolation graded in one markbook call."""
    if not markbook_path().is_file():
        pytest.skip(f"no markbook binary at {markbook_path()}")
    root = tmp_path_factory.mktemp("scriptmode")
    subs = root / "subs"
    subs.mkdir()
    for name, source in (("ui_setup.py", UI_SETUP), ("in_cells.py", IN_CELLS),
                         ("scaffold.py", SCAFFOLD), ("too_deep.py", TOO_DEEP)):
        (subs / name).write_text(source)
    results: dict[str, dict[str, dict]] = {}
    for isolation in ("shared", "process"):
        course = root / isolation
        (course / "exercises" / "sums").mkdir(parents=True)
        (course / "hidden" / "sums").mkdir(parents=True)
        (course / "exercises" / "sums" / "sums.py").write_text(SCAFFOLD)
        (course / "exercises" / "sums" / "exercise.json").write_text(json.dumps({
            "title": "Sums", "phase": 1, "max_points": 10, "timeout_s": 20,
            "test_timeout_s": 4, "isolation": isolation}))
        (course / "hidden" / "sums" / "test_sums.py").write_text(TESTS)
        proc = subprocess.run(
            [str(markbook_path()), "grade", "--course", str(course), "--exercise", "sums",
             "--json", "--jobs", "2", *sorted(str(p) for p in subs.iterdir())],
            capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        results[isolation] = {Path(r["file"]).name: r for r in json.loads(proc.stdout)}
    return results


@pytest.mark.parametrize("isolation", ["shared", "process"])
def test_setup_cell_ui_value_and_progress_bar_grade_right(graded, isolation: str) -> None:
    result = graded[isolation]["ui_setup.py"]
    assert (result["status"], result["score"]) == ("done", 10), result
    assert graded[isolation]["scaffold.py"]["score"] == 0  # the tests can fail


def test_functions_in_cells_are_found_the_same_way_in_both_isolations(graded) -> None:
    shared, process = graded["shared"]["in_cells.py"], graded["process"]["in_cells.py"]
    assert (shared["status"], shared["score"]) == ("done", 10), shared
    assert (process["status"], process["score"]) == ("done", 10), process
    assert [(t["name"], t["passed"]) for t in shared["tests"]] == \
        [(t["name"], t["passed"]) for t in process["tests"]] == \
        [("test_total", True), ("test_target_sum", True)]
    # Whatever of the loader's advice the result shows, it is the same in both.
    assert shared["message"] == process["message"]


@pytest.mark.parametrize("isolation", ["shared", "process"])
def test_a_notebook_too_deep_is_graded_done_with_a_sentence(graded, isolation: str) -> None:
    result = graded[isolation]["too_deep.py"]
    line = TOO_DEEP.splitlines().index("    return xs" + ".real" * 1500) + 1
    assert (result["status"], result["score"]) == ("done", 0), result
    assert "The notebook is nested too deeply to be graded" in result["message"]
    assert f"line {line}" in result["message"]
