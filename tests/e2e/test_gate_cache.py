"""`markbook serve` keeps the publish gate's verdict between starts (a pass only), and runs
the gate again when anything that decides it changes or the kept file is not to be trusted.

What shows where a verdict came from: a kept file's `solution_seconds` is the one field a pass
does not fix, so the tests write a value no run takes (42.5) into it. A start that trusts the
file shows 42.5 to the teacher; a start that runs the gate shows the run's own time and keeps a
new file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from server_client import ROOT, Server, markbook

MARK = 42.5
PLAN = [("test_small", 5), ("test_edge", 5)]
# Each test starts servers of its own, so tools/run-tests may run them side by side.
SPREAD_TESTS = True
FREE_TEST = '''

def test_free():
    """Hands out points: it passes whatever the notebook does."""
    assert True
'''


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """The folder where markbook keeps plans and verdicts, private to the test."""
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "markbook"


def add_exercise(course: Path, slug: str, extra_test: str = "") -> None:
    """A copy of cp1-functions named `slug`, with short limits."""
    ex, hidden = course / "exercises" / slug, course / "hidden" / slug
    shutil.copytree(ROOT / "exercises" / "cp1-functions", ex)
    shutil.copytree(ROOT / "hidden" / "cp1-functions", hidden)
    (ex / "cp1-functions.py").rename(ex / f"{slug}.py")
    spec = json.loads((ex / "exercise.json").read_text())
    spec.update({"timeout_s": 10, "test_timeout_s": 3})
    (ex / "exercise.json").write_text(json.dumps(spec))
    if extra_test:
        test = hidden / "test_cp1_functions.py"
        test.write_text(test.read_text() + extra_test)


def start(course: Path, run: Path) -> dict:
    """Start markbook serve with a fresh database in `run`, and return the teacher's view of
    the exercises. The verdicts do not depend on the database."""
    run.mkdir()
    srv = Server(course, run / "markbook.db").start()
    try:
        t = srv.client()
        assert t.login("teacher", srv.teacher_password).status == 200
        return {e["slug"]: e for e in t.get("/api/exercises").json()}
    finally:
        srv.stop()


def kept(cache: Path) -> dict[str, Path]:
    """The kept verdicts by exercise."""
    files: dict[str, Path] = {}
    for f in cache.glob("gate-*.json"):
        slug = json.loads(f.read_text())["slug"]
        assert slug not in files, f"two kept verdicts for {slug}"
        files[slug] = f
    return files


def mark(path: Path, **change) -> None:
    """Rewrite a kept verdict with MARK as its run time and `change` applied."""
    v = json.loads(path.read_text())
    v.update({"solution_seconds": MARK, **change})
    path.write_text(json.dumps(v))


def passes(ex: dict) -> None:
    assert ex["published"] is True, ex
    check = ex["check"]
    assert check["ok"] is True and check["problems"] == [], check
    assert [(t["name"], t["points"]) for t in check["tests"]] == PLAN, check


def test_a_second_start_gives_the_kept_verdict_and_check_does_not(tmp_path, cache):
    course = tmp_path / "course"
    add_exercise(course, "good")

    first = start(course, tmp_path / "run1")["good"]
    passes(first)
    files = kept(cache)
    assert list(files) == ["good"]
    v = json.loads(files["good"].read_text())
    assert v["ok"] is True and v["solution_seconds"] == first["check"]["solution_seconds"]
    assert [(t["name"], t["points"]) for t in v["tests"]] == PLAN
    assert files["good"].stat().st_mode & 0o777 == 0o600
    # Only the plan and the verdict: no temporary file is left behind.
    assert sorted(f.name.split("-")[0] for f in cache.iterdir()) == ["gate", "plan"]

    mark(files["good"])
    before = files["good"].stat()
    second = start(course, tmp_path / "run2")["good"]
    passes(second)
    assert second["check"]["solution_seconds"] == MARK
    after = files["good"].stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert kept(cache) == files

    # markbook check is the teacher's tool to verify: it always runs the gate.
    r = subprocess.run([markbook(), "check", "--course", str(course)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "good  PASS  reference solution 10/10 in " in r.stdout
    assert f" in {MARK} s" not in r.stdout, r.stdout
    assert files["good"].stat().st_mtime_ns == before.st_mtime_ns


def test_a_change_to_what_decides_the_verdict_runs_the_gate_again(tmp_path, cache,
                                                                   monkeypatch):
    course = tmp_path / "course"
    add_exercise(course, "good")
    ex, hidden = course / "exercises" / "good", course / "hidden" / "good"
    passes(start(course, tmp_path / "run0")["good"])

    def other_build() -> None:
        # The same program with one more byte: another build of markbook.
        other = tmp_path / "markbook-other"
        shutil.copy2(markbook(), other)
        with open(other, "ab") as f:
            f.write(b"\0")
        monkeypatch.setenv("MARKBOOK", str(other))

    changes = {
        "exercise.json": lambda: (ex / "exercise.json").write_text(
            (ex / "exercise.json").read_text().replace('"timeout_s": 10', '"timeout_s": 11')),
        # Not a limit, but exercise.json counts whole.
        "the feedback rule": lambda: (ex / "exercise.json").write_text(json.dumps(
            {**json.loads((ex / "exercise.json").read_text()), "feedback": "always"})),
        "solution.py": lambda: (hidden / "solution.py").write_text(
            (hidden / "solution.py").read_text() + "\n# tidied\n"),
        "a hidden test": lambda: (hidden / "test_cp1_functions.py").write_text(
            (hidden / "test_cp1_functions.py").read_text() + "\n# reworded\n"),
        "the markbook binary": other_build,
    }
    for n, (what, change) in enumerate(changes.items(), 1):
        old = set(cache.glob("gate-*.json"))
        for f in old:
            mark(f)
        change()
        good = start(course, tmp_path / f"run{n}")["good"]
        passes(good)
        assert good["check"]["solution_seconds"] != MARK, what
        new = set(cache.glob("gate-*.json")) - old
        assert len(new) == 1, what
        v = json.loads(new.pop().read_text())
        assert v["slug"] == "good" and v["solution_seconds"] == good["check"][
            "solution_seconds"], what


def test_a_failing_verdict_is_not_kept(tmp_path, cache):
    course = tmp_path / "course"
    add_exercise(course, "good")
    add_exercise(course, "free", extra_test=FREE_TEST)

    for run in ("run1", "run2"):
        exercises = start(course, tmp_path / run)
        passes(exercises["good"])
        free = exercises["free"]
        assert free["published"] is False and free["check"]["ok"] is False, free
        assert free["problem"].startswith("Fails the publish gate: test_free passes"), free
        assert list(kept(cache)) == ["good"], run


def test_a_damaged_or_altered_kept_verdict_is_not_trusted(tmp_path, cache):
    course = tmp_path / "course"
    damage = {
        "renamed": lambda v: v["tests"][0].update(name="test_other"),
        "flipped": lambda v: v.update(ok=False, problems="junk\n"),
        "free-points": lambda v: v["tests"][1].update(scaffold_passed=True),
        "wrong-type": lambda v: v["tests"][1].update(points="5"),
        "missing-test": lambda v: v["tests"].pop(),
        "other-slug": lambda v: v.update(slug="renamed"),
    }
    for slug in [*damage, "truncated"]:
        add_exercise(course, slug)
    start(course, tmp_path / "run1")
    files = kept(cache)
    assert sorted(files) == sorted([*damage, "truncated"])

    for slug, change in damage.items():
        v = json.loads(files[slug].read_text())
        v["solution_seconds"] = MARK
        change(v)
        files[slug].write_text(json.dumps(v))
    text = files["truncated"].read_text()
    files["truncated"].write_text(text[:len(text) // 2])

    exercises = start(course, tmp_path / "run2")
    for slug in files:
        passes(exercises[slug])
        assert exercises[slug]["check"]["solution_seconds"] != MARK, slug
    # The gate ran again and kept its pass in place of each damaged file.
    again = kept(cache)
    assert sorted(again) == sorted(files)
    for slug, f in again.items():
        v = json.loads(f.read_text())
        assert v["ok"] is True and v["solution_seconds"] == exercises[slug]["check"][
            "solution_seconds"], slug
        assert [(t["name"], t["points"], t["scaffold_passed"]) for t in v["tests"]] == [
            (name, points, False) for name, points in PLAN], slug
