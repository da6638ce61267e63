"""Points that are exact and fair, with the real binary: a parametrized test function's 230
cases share its points (an answer that always returns False scores what it gets right, not
10/10), points are kept in hundredths and shown with at most two decimals in `markbook grade
--json`, `markbook check`, the gradebook JSON, the CSV exports and an override, and the
publish gate refuses a split it cannot make fair, saying which test and what to change."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from server_client import Server, markbook, student, teacher_of

SLUG = "target-sum"

SCAFFOLD = '''import marimo

app = marimo.App()


@app.function
def target_sum(numbers, target):
    """True when two different entries of `numbers` add up to `target`."""
    return None


if __name__ == "__main__":
    app.run()
'''


def answer(body: str) -> str:
    """The scaffold with `target_sum`'s body replaced."""
    return SCAFFOLD.replace("    return None\n", body)


SOLUTION = answer('''    seen = set()
    for n in numbers:
        if target - n in seen:
            return True
        seen.add(n)
    return False
''')
ALWAYS_FALSE = answer("    return False\n")
# Looks only at neighbours: right whenever the answer is False or a neighbouring pair hits.
NEIGHBOURS = answer('''    return any(a + b == target for a, b in zip(numbers, numbers[1:]))
''')

# The cases, generated as a teacher's script might: 230 of them, 104 True.
CASES_SOURCE = '''
def make_case(i):
    numbers = [(i * 7 + k * 13) % 19 - 6 for k in range(3 + i % 7)]
    target = (i * 11) % 17 - 2
    expected = any(a + b == target for a, b in itertools.combinations(numbers, 2))
    return numbers, target, expected


CASES = [make_case(i) for i in range(N_CASES)]
'''

TESTS = '''"""target_sum: three worked examples and 230 generated cases."""
import itertools

import pytest

from submission import target_sum

N_CASES = 230
''' + CASES_SOURCE + '''

@pytest.mark.points(2.5)
@pytest.mark.parametrize("numbers, target, expected", [
    ([1, 2, 3], 5, True), ([1, 2, 3], 7, False), ([4, 4], 8, True)])
def test_examples(numbers, target, expected):
    """The examples of the exercise text."""
    assert target_sum(numbers, target) is expected


@pytest.mark.parametrize("numbers, target, expected", CASES)
def test_target_sum(numbers, target, expected):
    """Whether two entries add up to the target, on generated cases."""
    assert target_sum(numbers, target) is expected
'''

EXAMPLES = [([1, 2, 3], 5, True), ([1, 2, 3], 7, False), ([4, 4], 8, True)]


def cases(n: int = 230) -> list[tuple[list[int], int, bool]]:
    """The first `n` generated cases, as the hidden tests make them."""
    scope: dict = {"itertools": itertools, "N_CASES": n}
    exec(CASES_SOURCE, scope)
    return scope["CASES"]


def add_exercise(course: Path, slug: str, tests: str, max_points: float = 10) -> None:
    ex, hidden = course / "exercises" / slug, course / "hidden" / slug
    ex.mkdir(parents=True)
    hidden.mkdir(parents=True)
    (ex / "exercise.json").write_text(json.dumps(
        {"title": "Target sum", "phase": 1, "max_points": max_points, "timeout_s": 60,
         "test_timeout_s": 5, "feedback": "always"}))
    (ex / f"{slug}.py").write_text(SCAFFOLD)
    (hidden / "test_target_sum.py").write_text(tests)
    (hidden / "solution.py").write_text(SOLUTION)


def run(*args: str) -> subprocess.CompletedProcess:
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    return subprocess.run([markbook(), *args], capture_output=True, text=True, timeout=600)


def expected_points(passes, n: int = 230) -> int:
    """What an answer deserves: the examples share 2.5 (0.84, 0.83, 0.83) and the `n` cases
    share 7.5 (230 cases: 60 get 0.04, 170 get 0.03), the first in file order taking the
    hundredths left over. `passes(numbers, target, expected)` says whether the answer gets a
    case right. Returned in hundredths."""
    share, left_over = divmod(750, n)
    total = 0
    for i, case in enumerate(EXAMPLES):
        total += (84 if i == 0 else 83) * passes(*case)
    for i, case in enumerate(cases(n)):
        total += (share + (i < left_over)) * passes(*case)
    return total


def neighbours_right(numbers: list[int], target: int, expected: bool) -> bool:
    return any(a + b == target for a, b in zip(numbers, numbers[1:])) is expected


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("points") / "course"
    add_exercise(course, SLUG, TESTS)
    subs = course.parent / "subs"
    subs.mkdir()
    for name, text in (("solution.py", SOLUTION), ("always_false.py", ALWAYS_FALSE),
                       ("neighbours.py", NEIGHBOURS), ("scaffold.py", SCAFFOLD)):
        (subs / name).write_text(text)
    return course


def test_the_generated_cases_are_what_the_expectations_say():
    assert len(cases()) == 230 and sum(c[2] for c in cases()) == 104
    # Exact hundredths, worked out once by hand from the split above.
    assert expected_points(lambda n, t, e: True) == 1000
    assert expected_points(lambda n, t, e: not e) == 495
    assert expected_points(neighbours_right) == 831


def test_grade_scores_each_case_its_share_in_exact_hundredths(course):
    files = [str(course.parent / "subs" / name) for name in
             ("solution.py", "always_false.py", "neighbours.py", "scaffold.py")]
    r = run("grade", "--course", str(course), "--exercise", SLUG, "--json", "--jobs", "2",
            *files)
    assert r.returncode == 0, r.stderr + r.stdout
    results = {Path(x["file"]).name: x for x in json.loads(r.stdout)}
    assert [(name, x["score"], x["max_points"]) for name, x in results.items()] == [
        ("solution.py", 10, 10), ("always_false.py", 4.95, 10),
        ("neighbours.py", 8.31, 10), ("scaffold.py", 0, 10)]
    # Integral scores stay integers in JSON; the others have at most two decimals.
    assert type(results["solution.py"]["score"]) is int
    assert re.search(r'"score":\s+4\.95,', r.stdout), r.stdout
    tests = results["always_false.py"]["tests"]
    assert len(tests) == 233
    assert [(t["name"], t["max_points"]) for t in tests[:4]] == [
        ("test_examples[numbers0-5-True]", 0.84), ("test_examples[numbers1-7-False]", 0.83),
        ("test_examples[numbers2-8-True]", 0.83), ("test_target_sum[numbers0--2-False]", 0.04)]
    assert sum(round(t["max_points"] * 100) for t in tests) == 1000
    assert [t["max_points"] for t in tests[3:]] == [0.04] * 60 + [0.03] * 170
    for t in tests:
        assert t["points"] == (t["max_points"] if t["passed"] else 0), t
    assert round(sum(t["points"] for t in tests) * 100) == 495


def test_grade_prints_points_with_at_most_two_decimals(course):
    r = run("grade", "--course", str(course), "--exercise", SLUG,
            str(course.parent / "subs" / "always_false.py"))
    assert r.returncode == 0, r.stderr + r.stdout
    assert re.search(r"always_false\.py  4\.95/10  done", r.stdout), r.stdout
    assert re.search(r"pass  test_examples\[numbers1-7-False\] 0\.83/0\.83", r.stdout), r.stdout
    assert re.search(r"FAIL  test_examples\[numbers0-5-True\] 0/0\.84", r.stdout), r.stdout
    assert "1 file graded, mean score 4.95/10, 0 system errors" in r.stdout


def test_check_passes_and_shows_each_case_its_share(course):
    r = run("check", "--course", str(course))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^target-sum  PASS  reference solution 10/10 in \d+\.\d s, "
                     r"scaffold 0/10$", r.stdout, re.M), r.stdout
    assert re.search(r"ok    test_examples\[numbers0-5-True\] 0\.84 points", r.stdout)
    assert re.search(r"ok    test_target_sum\[numbers229-\S+\] 0\.03 points", r.stdout)


def test_check_fails_a_split_it_cannot_make_fair_saying_what_to_change(tmp_path):
    course = tmp_path / "course"
    marked = TESTS.replace('@pytest.mark.parametrize("numbers, target, expected", CASES)',
                           '@pytest.mark.points(POINTS)\n'
                           '@pytest.mark.parametrize("numbers, target, expected", CASES)')
    add_exercise(course, "tiny", marked.replace("POINTS", "1").replace("points(2.5)",
                                                                         "points(9)"))
    add_exercise(course, "over", marked.replace("POINTS", "8"))
    add_exercise(course, "decimals", TESTS.replace("points(2.5)", "points(0.333)"))
    add_exercise(course, "unmarked", TESTS, max_points=2.6)
    add_exercise(course, "fractional", TESTS, max_points=7.75)
    r = run("check", "--course", str(course))
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert ("tiny  FAIL\n    problem: hidden/tiny: test_target_sum.py::test_target_sum has "
            "230 cases sharing 1 point: each would get 0.0043; give it more points "
            "(@pytest.mark.points) or fewer cases.\n") in out, out
    assert ("over  FAIL\n    problem: hidden/over: The tests marked with points add up to "
            "10.5, more than max_points (10): test_target_sum.py::test_examples (2.5), "
            "test_target_sum.py::test_target_sum (8). Lower their markers or raise max_points "
            "in exercise.json.\n") in out, out
    assert ("decimals  FAIL\n" + "\n".join(
        f"    problem: hidden/decimals: test_target_sum.py::test_examples[{case}]: "
        "@pytest.mark.points needs a number of points above 0 with at most two decimals "
        "(such as 2 or 0.5), not points(0.333)."
        for case in ("numbers0-5-True", "numbers1-7-False", "numbers2-8-True"))) in out, out
    assert ("unmarked  FAIL\n    problem: hidden/unmarked: test_target_sum.py::test_target_sum "
            "has 230 cases sharing 0.1 points: each would get 0.00043; give it more points "
            "(@pytest.mark.points) or fewer cases.\n") in out, out
    assert re.search(r"^fractional  PASS  reference solution 7\.75/7\.75 in \d+\.\d s, "
                     r"scaffold 0/7\.75$", out, re.M), out
    assert out.rstrip().endswith("5 exercises checked, 4 failed the gate")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server whose exercise has 40 generated cases, not 230: the server runs the publish
    gate as it starts, within a minute on a busy machine, and the hundredths it shows are the
    same whatever the count."""
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    root = tmp_path_factory.mktemp("points-server")
    add_exercise(root / "course", SLUG, TESTS.replace("N_CASES = 230", "N_CASES = 40"))
    srv = Server(root / "course", root / "markbook.db").start()
    for name in ("ada", "bob"):
        srv.add_user(name)
    yield srv
    srv.stop()


def hand_in(srv: Server, name: str, text: str) -> dict:
    c = student(srv, name)
    r = c.post_json("/api/submissions", {"exercise": SLUG, "source": text})
    assert r.status == 202, r.text
    return c.wait_graded(r.json()["id"], timeout=120)


def export(t, fmt: str) -> list[list[str]]:
    r = t.get(f"/api/export.csv?format={fmt}")
    assert r.status == 200, r.text
    return list(csv.reader(io.StringIO(r.text)))


def test_server_keeps_hundredths_in_the_gradebook_the_export_and_an_override(server):
    assert expected_points(lambda n, t, e: not e, 40) == 496
    assert expected_points(neighbours_right, 40) == 831
    ada = hand_in(server, "ada", ALWAYS_FALSE)
    assert ada["status"] == "done" and ada["score"] == 4.96 and ada["max_points"] == 10
    assert ada["final_score"] == 4.96
    assert {t["max_points"] for t in ada["tests"]} == {0.84, 0.83, 0.19, 0.18}
    bob = hand_in(server, "bob", NEIGHBOURS)
    assert bob["score"] == 8.31
    t = teacher_of(server)
    gb = t.get("/api/gradebook").json()
    scores = {s["username"]: (s["scores"][SLUG], s["total"]) for s in gb["students"]}
    assert scores == {"ada": (4.96, 4.96), "bob": (8.31, 8.31)}
    assert [e["max_points"] for e in gb["exercises"] if e["slug"] == SLUG] == [10]
    assert export(t, "wide")[1:] == [["ada", "ada", "4.96", "4.96"],
                                     ["bob", "bob", "8.31", "8.31"]]
    long = export(t, "long")
    assert [row[3:5] for row in long[1:]] == [["4.96", "10"], ["8.31", "10"]]

    # An override takes hundredths, and refuses more with a sentence.
    r = t.post_json(f"/api/submissions/{ada['id']}/override",
                    {"score": 7.555, "comment": "Too precise"})
    assert r.status == 422
    assert r.json()["error"] == ('"score" must be a number of points from 0 to the '
                                 "exercise's maximum with at most two decimals (such as 7 or "
                                 "7.5), or null to remove the override.")
    r = t.post_json(f"/api/submissions/{ada['id']}/override",
                    {"score": 10.5, "comment": "Too much"})
    assert r.status == 422 and r.json()["error"] == \
        "10.5 points is more than the exercise is worth."
    r = t.post_json(f"/api/submissions/{ada['id']}/override",
                    {"score": 7.5, "comment": "Half a point for the write-up"})
    assert r.status == 200, r.text
    assert r.json()["override"]["score"] == 7.5 and r.json()["final_score"] == 7.5
    gb = t.get("/api/gradebook").json()
    assert {s["username"]: s["scores"][SLUG] for s in gb["students"]} == \
        {"ada": 7.5, "bob": 8.31}
    assert export(t, "wide")[1] == ["ada", "ada", "7.5", "7.5"]
    assert export(t, "canvas")[1][5:] == ["10"]
    assert export(t, "moodle")[1][-1] == "7.5"
    me = student(server, "ada").get(f"/api/submissions/{ada['id']}").json()
    assert me["final_score"] == 7.5 and me["score"] == 4.96
