"""markbook keeps each exercise's test plan between runs, and never serves a stale one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from markbook_e2e import REPO, markbook_path


def grade(course: Path, cache: Path, *files: Path) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    proc = subprocess.run(
        [str(markbook_path()), "grade", "--course", str(course), "--exercise", "cp1-functions",
         "--json", *map(str, files)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)[0]


def test_a_changed_hidden_test_changes_the_plan(tmp_path):
    if not markbook_path().is_file():
        pytest.skip(f"no markbook binary at {markbook_path()}")
    course, cache = tmp_path / "course", tmp_path / "cache"
    for part in ("exercises", "hidden"):
        shutil.copytree(REPO / part / "cp1-functions", course / part / "cp1-functions")
    solution = course / "hidden" / "cp1-functions" / "solution.py"

    first = grade(course, cache, solution)
    assert [t["name"] for t in first["tests"]] == ["test_small", "test_edge"]
    kept = list((cache / "markbook").glob("plan-*.json"))
    assert len(kept) == 1
    assert json.loads(kept[0].read_text())["tests"][0]["name"] == "test_small"

    # Same course: the kept plan serves, and the result is the same.
    assert grade(course, cache, solution) == first

    # A new hidden test and a points marker: the plan is made again.
    tests = course / "hidden" / "cp1-functions" / "test_cp1_functions.py"
    tests.write_text("import pytest\n" + tests.read_text() + '''

@pytest.mark.points(4)
def test_big():
    """A big prime."""
    assert is_prime(104729)
''')
    second = grade(course, cache, solution)
    assert [(t["name"], t["max_points"]) for t in second["tests"]] == [
        ("test_small", 3), ("test_edge", 3), ("test_big", 4)]
    assert len(list((cache / "markbook").glob("plan-*.json"))) == 2

    # A changed data file the tests may read also counts.
    (course / "hidden" / "cp1-functions" / "data").mkdir()
    (course / "hidden" / "cp1-functions" / "data" / "extra.txt").write_text("1\n")
    grade(course, cache, solution)
    assert len(list((cache / "markbook").glob("plan-*.json"))) == 3
