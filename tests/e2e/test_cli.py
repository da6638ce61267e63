"""The command line: course errors and usage errors (exit 2), and the human output."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from markbook_e2e import REPO, World


def make_course(world: World, name: str) -> Path:
    """A fresh copy of the sample course (with the e2e time limits) to break."""
    dest = world.root / "courses" / name
    shutil.copytree(world.course, dest)
    return dest


def edit_json(path, **changes):
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def break_missing_scaffold(course):
    (course / "exercises/cp1-functions/cp1-functions.py").unlink()


def break_invalid_json(course):
    (course / "exercises/cp1-functions/exercise.json").write_text('{"title": "x", "phase": 1,\n')


def break_unknown_key(course):
    edit_json(course / "exercises/cp1-functions/exercise.json", foo=1)


def break_missing_exercise_json(course):
    (course / "exercises/cp1-functions/exercise.json").unlink()


def break_phase(course):
    edit_json(course / "exercises/cp1-functions/exercise.json", phase=3)


def break_due_at(course):
    edit_json(course / "exercises/cp1-functions/exercise.json", due_at="2026-12-01T23:59:00")


def break_missing_hidden_tests(course):
    (course / "hidden/cp1-functions/test_cp1_functions.py").unlink()


def break_missing_hidden_folder(course):
    shutil.rmtree(course / "hidden/cp1-functions")


COURSE_ERRORS = [
    (break_missing_scaffold, "cp1-functions", ["exercises/cp1-functions/cp1-functions.py", "missing"]),
    (break_invalid_json, "cp1-functions", ["exercises/cp1-functions/exercise.json", "invalid json"]),
    (break_unknown_key, "cp1-functions", ["exercises/cp1-functions/exercise.json", 'unknown key "foo"']),
    (break_missing_exercise_json, "cp1-functions", ["exercises/cp1-functions/exercise.json", "missing"]),
    (break_phase, "cp1-functions", ["exercises/cp1-functions/exercise.json", "phase"]),
    (break_due_at, "cp1-functions", ["exercises/cp1-functions/exercise.json", "due_at"]),
    (break_missing_hidden_tests, "cp1-functions", ["hidden/cp1-functions"]),
    (break_missing_hidden_folder, "cp1-functions", ["hidden/cp1-functions"]),
]


@pytest.mark.parametrize("breaker,slug,phrases", COURSE_ERRORS,
                         ids=[b.__name__.removeprefix("break_") for b, _, _ in COURSE_ERRORS])
def test_course_error(world, breaker, slug, phrases):
    """A broken course: exit 2, and stderr names the file and the problem; nothing graded."""
    course = make_course(world, breaker.__name__)
    breaker(course)
    correct = world.submission("cp1-functions", "correct.py", "course-errors")
    run = world.grade(slug, [correct], course=course)
    assert run.returncode == 2, run.describe()
    for phrase in phrases:
        assert phrase.casefold() in run.stderr.casefold(), run.describe()
    assert not list(run.tmpdir.iterdir()), "a course error must stop before staging anything"


def test_bad_slug(world):
    """An exercise folder whose name is not [a-z0-9-]: exit 2, naming it."""
    course = make_course(world, "bad-slug")
    (course / "exercises/cp1-functions").rename(course / "exercises/CP1_functions")
    (course / "hidden/cp1-functions").rename(course / "hidden/CP1_functions")
    (course / "exercises/CP1_functions/cp1-functions.py").rename(
        course / "exercises/CP1_functions/CP1_functions.py")
    correct = world.submission("cp1-functions", "correct.py", "course-errors")
    run = world.grade("CP1_functions", [correct], course=course)
    assert run.returncode == 2, run.describe()
    assert "CP1_functions" in run.stderr, run.describe()


@pytest.mark.parametrize("args,phrase", [
    (["grade", "--exercise", "no-such-exercise", "--json", "FILE"], "no-such-exercise"),
    (["grade", "--exercise", "cp1-functions", "--json"], ""),
    (["grade", "--json", "FILE"], "exercise"),
    (["grade", "--exercise", "cp1-functions", "--bogus", "FILE"], "bogus"),
    (["grade", "--exercise", "cp1-functions", "--jobs", "0", "FILE"], "jobs"),
    (["serve", "--workers", "0"], "--workers takes a number"),
    (["serve", "--connections", "3"], "--connections takes a number from 8"),
    (["serve", "--connections", "lots"], "--connections takes a number"),
    (["serve", "--listen", "[::1]:8080"], "--listen takes PORT or IPV4-ADDRESS:PORT"),
    (["serve", "--listen", "localhost:8080"], "\"localhost:8080\" is neither"),
    (["serve", "--listen", "0.0.0.0:70000"], "--listen takes"),
    (["serve", "--listen", "8080s"], "--listen takes"),
    (["no-such-command"], "no-such-command"),
    ([], ""),
], ids=["unknown-exercise", "no-files", "no-exercise", "unknown-option", "jobs-0",
        "workers-0", "connections-3", "connections-not-a-number", "listen-ipv6",
        "listen-hostname", "listen-port-too-big", "listen-port-with-options", "unknown-command",
        "no-command"])
def test_usage_error(world, args, phrase):
    """Usage errors exit 2 with a message on stderr, and grade nothing."""
    correct = str(world.submission("cp1-functions", "correct.py", "usage"))
    args = [correct if a == "FILE" else a for a in args]
    if args and args[0] == "grade":
        args = ["grade", "--course", str(world.course), *args[1:]]
    run = world.run(args)
    assert run.returncode == 2, run.describe()
    assert run.stderr.strip() != "", run.describe()
    assert phrase.casefold() in run.stderr.casefold(), run.describe()


def test_human_output(world):
    """Without --json: `FILE  SCORE/MAX  status` per file, its tests under it, a summary."""
    files = [world.submission("cp1-functions", n, "human")
             for n in ("correct.py", "partly_right.py")]
    run = world.grade("cp1-functions", files, json_output=False)
    assert run.returncode == 0, run.describe()
    lines = [line.rstrip() for line in run.stdout.splitlines() if line.strip()]
    heads = [i for i, line in enumerate(lines)
             if re.fullmatch(rf"{re.escape(str(files[0]))}\s+10/10\s+done", line)]
    assert len(heads) == 1, run.describe()
    second = [i for i, line in enumerate(lines)
              if re.fullmatch(rf"{re.escape(str(files[1]))}\s+5/10\s+done", line)]
    assert len(second) == 1 and second[0] > heads[0], run.describe()
    first_block = lines[heads[0] + 1:second[0]]
    assert any("test_small" in line for line in first_block), run.describe()
    assert any("test_edge" in line for line in first_block), run.describe()
    rest = lines[second[0] + 1:]
    assert any("test_edge" in line for line in rest), run.describe()
    # The summary comes last: neither a file line nor a test line.
    assert not lines[-1].startswith(str(files[0])) and "test_" not in lines[-1], run.describe()


def test_sample_course_is_valid_as_shipped(world):
    """The repository root itself is the sample course: `--course .` grades it."""
    correct = world.submission("cp1-functions", "correct.py", "as-shipped")
    run = world.run(["grade", "--course", str(REPO), "--exercise", "cp1-functions", "--json",
                     str(correct)], files=[str(correct)])
    assert run.returncode == 0, run.describe()
    assert run.by_name()["correct.py"]["score"] == 10
