"""The publish gate: `markbook check` on the sample course and on exercises broken in each way
the gate looks for, and the same gate when `markbook serve` loads the course (an exercise
that fails stays unpublished and the teacher sees why, test by test)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from server_client import ROOT, Server, markbook, student

SOLUTION = (ROOT / "hidden" / "cp1-functions" / "solution.py").read_text()
SCAFFOLD = (ROOT / "exercises" / "cp1-functions" / "cp1-functions.py").read_text()

FREE_TEST = '''

def test_free():
    """Hands out points: it passes whatever the notebook does."""
    assert True
'''

IN_CELL = '''import marimo

app = marimo.App()


@app.cell
def _():
    def is_prime(n):
        return None
    return (is_prime,)
'''

PLAIN = "def is_prime(n):\n    return None\n"

COUNTER_SCAFFOLD = '''import marimo

app = marimo.App()

with app.setup:
    import collections


@app.function
def count_words(text):
    return {}
'''

COUNTER_SOLUTION = COUNTER_SCAFFOLD.replace("return {}",
                                            "return collections.Counter(text.split())")

COUNTER_TEST = '''from submission import count_words


def test_count():
    """Counts each word."""
    assert count_words("a b a") == {"a": 2, "b": 1}
'''


def add_exercise(course: Path, slug: str, scaffold: str = SCAFFOLD,
                 solution: str | None = SOLUTION, tests: str | None = None,
                 extra_test: str = "") -> None:
    ex, hidden = course / "exercises" / slug, course / "hidden" / slug
    ex.mkdir(parents=True)
    hidden.mkdir(parents=True)
    (ex / "exercise.json").write_text(json.dumps(
        {"title": slug, "phase": 1, "max_points": 10, "timeout_s": 10, "test_timeout_s": 3}))
    (ex / f"{slug}.py").write_text(scaffold)
    text = tests if tests is not None else (
        ROOT / "hidden" / "cp1-functions" / "test_cp1_functions.py").read_text()
    (hidden / "test_x.py").write_text(text + extra_test)
    if solution is not None:
        (hidden / "solution.py").write_text(solution)


def check(course: Path, *slugs: str) -> subprocess.CompletedProcess:
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    return subprocess.run([markbook(), "check", "--course", str(course), *slugs],
                          capture_output=True, text=True, timeout=300)


def block(out: str, slug: str) -> str:
    """The lines `markbook check` printed about one exercise."""
    m = re.search(rf"^{re.escape(slug)}  .*?(?=^\S|\Z)", out, re.M | re.S)
    assert m, out
    return m[0]


def test_check_passes_the_sample_course_and_shows_the_solution_run_time(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "exercises", course / "exercises")
    shutil.copytree(ROOT / "hidden", course / "hidden")
    r = check(course)
    assert r.returncode == 0, r.stdout + r.stderr
    for slug, points in (("cp1-functions", 10), ("ds1-sales", 12)):
        assert re.search(rf"^{slug}  PASS  reference solution {points}/{points} in "
                         rf"\d+\.\d s, scaffold 0/{points}$", r.stdout, re.M), r.stdout
    assert "ok    test_small               5 points  solution passes, scaffold fails" in r.stdout
    assert r.stdout.rstrip().endswith("2 exercises checked, 0 failed the gate")


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("gate") / "course"
    add_exercise(course, "good")
    add_exercise(course, "free", extra_test=FREE_TEST)
    add_exercise(course, "wrong", solution=SOLUTION.replace("if n < 2:", "if n < 0:"))
    add_exercise(course, "nosol", solution=None)
    add_exercise(course, "plain", scaffold=PLAIN, solution=PLAIN.replace("None", "n == 2"))
    add_exercise(course, "incell", scaffold=IN_CELL)
    add_exercise(course, "counter", scaffold=COUNTER_SCAFFOLD, solution=COUNTER_SOLUTION,
                 tests=COUNTER_TEST)
    return course


def test_check_fails_each_broken_exercise_test_by_test_and_exits_1(broken):
    r = check(broken)
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert block(out, "good").startswith("good  PASS")
    free = block(out, "free")
    assert free.startswith("free  FAIL  reference solution 10/10")
    assert re.search(r"FAIL  test_free +3\.33 points  solution passes, scaffold PASSES: passes on "
                     r"the unchanged scaffold", free), free
    assert "test_free passes on the unchanged scaffold: it hands out 3.33 free points" in free
    wrong = block(out, "wrong")
    assert re.search(r"FAIL  test_small .*solution FAILS, scaffold fails: fails on the "
                     r"reference solution", wrong), wrong
    assert "test_small fails on the reference solution: assert" in wrong
    assert "hidden/nosol/solution.py: missing" in block(out, "nosol")
    assert "exercises/plain/plain.py is not a marimo notebook" in block(out, "plain")
    assert ("is_prime, which the tests import, is not an @app.function"
            in block(out, "incell"))
    counter = block(out, "counter")
    assert "test_count fails on the reference solution" in counter
    assert "cannot be sent between the sandboxes" in counter
    assert "warning: test_count uses a value the two sandboxes cannot exchange: set " \
           "\"isolation\": \"shared\"" in counter
    assert out.rstrip().endswith("7 exercises checked, 6 failed the gate")


def test_check_of_named_exercises_only_and_of_an_unknown_one(broken):
    r = check(broken, "good")
    assert r.returncode == 0 and "1 exercise checked, 0 failed" in r.stdout, r.stdout
    r = check(broken, "good", "nosuch")
    assert r.returncode == 1
    assert "nosuch  FAIL" in r.stdout and "no such exercise folder" in r.stdout


def test_server_keeps_an_exercise_that_fails_the_gate_unpublished_and_says_why(
        broken, tmp_path):
    course = tmp_path / "course"
    for slug in ("good", "free"):
        shutil.copytree(broken / "exercises" / slug, course / "exercises" / slug)
        shutil.copytree(broken / "hidden" / slug, course / "hidden" / slug)
    srv = Server(course, tmp_path / "markbook.db").start()
    try:
        assert re.search(r"free +NOT PUBLISHED: Fails the publish gate: test_free passes",
                         srv.output), srv.output
        t = srv.client()
        assert t.login("teacher", srv.teacher_password).status == 200
        ex = {e["slug"]: e for e in t.get("/api/exercises").json()}
        assert ex["good"]["published"] is True and ex["good"]["check"]["ok"] is True
        assert ex["good"]["check"]["solution_score"] == 10
        assert ex["good"]["check"]["solution_seconds"] > 0
        free = ex["free"]
        assert free["published"] is False
        assert free["problem"].startswith("Fails the publish gate: test_free passes")
        tests = {x["name"]: x for x in free["check"]["tests"]}
        assert tests["test_free"]["scaffold_passed"] is True
        assert tests["test_free"]["problem"].startswith("passes on the unchanged scaffold")
        assert tests["test_small"]["problem"] == ""
        srv.add_user("ada")
        ada = student(srv, "ada")
        seen = ada.get("/api/exercises").json()
        assert [e["slug"] for e in seen] == ["good"] and "check" not in seen[0]
        r = ada.post_json("/api/submissions", {"exercise": "free", "source": SOLUTION})
        assert r.status == 404
    finally:
        srv.stop()
