"""Objects, exceptions, figures and variables across the two sandboxes of process isolation,
graded by the real binary in real firejail sandboxes (tests/corpus/objects/, README.md there).

Each exercise is graded once in process isolation: the reference solution (full marks), the
unchanged scaffold (0), a correct answer written differently, typical wrong answers and, for
the robot, a trick. Every file's score and the tests it passes are checked exactly; the
robot's files are graded in shared isolation too, where the trick earns more."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from markbook_e2e import CORPUS, MARKBOOK_TIMEOUT, markbook_path

OBJECTS = CORPUS / "objects"

# file -> (score, tests passed); "solution" and "scaffold" are the course's own files.
ROBOT_ALL = ["test_has_name", "test_name_sticks", "test_different_robots_have_different_names",
             "test_reset_name"]
EXPECTED: dict[str, dict[str, tuple[int, list[str]]]] = {
    "robot-name": {
        "solution": (4, ROBOT_ALL),
        "scaffold": (0, []),
        "correct.py": (4, ROBOT_ALL),
        "unsticky.py": (3, ["test_has_name", "test_different_robots_have_different_names",
                            "test_reset_name"]),
        "same_name.py": (2, ["test_has_name", "test_name_sticks"]),
        "lowercase.py": (2, ["test_name_sticks", "test_different_robots_have_different_names"]),
        # Only the tests comparing the student's own values with each other.
        "trick_name.py": (2, ["test_name_sticks", "test_different_robots_have_different_names"]),
    },
    "linked-list": {
        "solution": (20, ["*"]),
        "scaffold": (0, []),
        "correct.py": (20, ["*"]),
        "builtin_exception.py": (17, ["*", "-test_error_on_empty_list_head",
                                      "-test_pop_from_singleton_list_removes_head",
                                      "-test_error_on_empty_list_pop"]),
        "no_message.py": (17, ["*", "-test_error_on_empty_list_head",
                               "-test_pop_from_singleton_list_removes_head",
                               "-test_error_on_empty_list_pop"]),
        "not_reversed.py": (19, ["*", "-test_non_empty_linked_list_to_list_is_list_with_all_"
                                      "elements"]),
    },
    "growth-plot": {
        "solution": (3, ["*"]),
        "scaffold": (0, []),
        "correct.py": (3, ["*"]),
        "axes_only.py": (0, []),
        "swapped_labels.py": (2, ["test_returns_one_figure", "test_line_data"]),
        "show_only.py": (0, []),
    },
    "weather": {
        "solution": (4, ["*"]),
        "scaffold": (1, ["test_readings_untouched"]),
        "correct.py": (4, ["*"]),
        "all_rows.py": (3, ["*", "-test_mean_temp"]),
        "in_place.py": (2, ["test_mean_temp", "test_warmest"]),
    },
}
# In shared isolation (one process), where the trick's own __eq__ and __ne__ decide.
SHARED_ROBOT = {"solution": 4, "correct.py": 4, "trick_name.py": 4, "same_name.py": 2}


def grade(course: Path, slug: str, files: list[Path]) -> dict[str, dict]:
    """`markbook grade --json` of `files`; results by file name (solution/scaffold named so)."""
    proc = subprocess.run(
        [str(markbook_path()), "grade", "--course", str(course), "--exercise", slug, "--json",
         "--jobs", "2", *map(str, files)], capture_output=True, text=True,
        timeout=MARKBOOK_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    out = {}
    for result in json.loads(proc.stdout):
        path = Path(result["file"])
        name = ("solution" if path.name == "solution.py" and path.parent.name == slug
                else "scaffold" if path.name == f"{slug}.py" else path.name)
        out[name] = result
    return out


def course_copy(root: Path, isolation: str) -> Path:
    course = root / isolation
    for part in ("exercises", "hidden"):
        shutil.copytree(OBJECTS / part, course / part)
    for spec in (course / "exercises").glob("*/exercise.json"):
        spec.write_text(json.dumps({**json.loads(spec.read_text()), "isolation": isolation}))
    return course


def files_of(course: Path, slug: str) -> list[Path]:
    return [course / "hidden" / slug / "solution.py",
            course / "exercises" / slug / f"{slug}.py",
            *sorted((OBJECTS / "submissions" / slug).glob("*.py"))]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """{slug: {file: result}} in process isolation, and "shared-robot-name" in shared."""
    if not markbook_path().is_file():
        pytest.skip(f"no markbook binary at {markbook_path()}")
    root = tmp_path_factory.mktemp("objects")
    results = {}
    course = course_copy(root, "process")
    for slug in EXPECTED:
        results[slug] = grade(course, slug, files_of(course, slug))
    shared = course_copy(root, "shared")
    results["shared-robot-name"] = grade(shared, "robot-name", files_of(shared, "robot-name"))
    return results


CASES = [(slug, name) for slug, files in EXPECTED.items() for name in files]


@pytest.mark.parametrize("slug,name", CASES, ids=[f"{s}/{n}" for s, n in CASES])
def test_each_file_scores_exactly_what_it_deserves(graded, slug: str, name: str) -> None:
    score, passing = EXPECTED[slug][name]
    result = graded[slug][name]
    context = json.dumps(result, indent=1)[:6000]
    assert result["status"] == "done", context
    everything = [t["name"] for t in result["tests"]]
    if passing[:1] == ["*"]:
        passing = [n for n in everything if f"-{n}" not in passing]
    assert [t["name"] for t in result["tests"] if t["passed"]] == [
        n for n in everything if n in passing], context
    assert result["score"] == score, context


def test_the_trick_earns_more_in_shared_isolation(graded) -> None:
    shared = graded["shared-robot-name"]
    for name, score in SHARED_ROBOT.items():
        assert shared[name]["score"] == score, shared[name]


def test_failure_messages_say_what_happened(graded) -> None:
    def message(slug: str, name: str, test: str) -> str:
        return next(t["message"] for t in graded[slug][name]["tests"] if t["name"] == test)

    assert "IndexError: The list is empty." in message(
        "linked-list", "builtin_exception.py", "test_error_on_empty_list_head")
    assert "IndexError: tuple index out of range" in message(
        "linked-list", "no_message.py", "test_error_on_empty_list_head")
    assert "expected string or bytes-like object" in message(
        "robot-name", "trick_name.py", "test_has_name")
    assert "'Growth' == 'Growth'" not in message("growth-plot", "swapped_labels.py",
                                                  "test_title_and_labels")
    assert "'value' == 'year'" in message("growth-plot", "swapped_labels.py",
                                          "test_title_and_labels")
    for result in graded["growth-plot"]["axes_only.py"]["tests"]:
        assert "cannot be sent between the sandboxes" not in result["message"], result
