"""`shared` isolation cannot be made unforgeable: a notebook that shares a process with the
hidden tests can fake its results. markbook check, the teacher's exercise list and the health
page mark every such exercise, with one sentence on the risk; the others are not marked, and
students are not told."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from server_client import ROOT, markbook, student, teacher_of

pytest_plugins = ["conftest_server"]

RISK = "students can fake their results in this exercise"


def test_check_marks_the_shared_exercise_and_only_it(tmp_path: Path):
    course = tmp_path / "course"
    for slug, isolation in (("cp1-functions", "process"), ("cp1-shared", "shared")):
        shutil.copytree(ROOT / "exercises" / "cp1-functions", course / "exercises" / slug)
        shutil.copytree(ROOT / "hidden" / "cp1-functions", course / "hidden" / slug)
        (course / "exercises" / slug / "cp1-functions.py").rename(
            course / "exercises" / slug / f"{slug}.py")
        spec = course / "exercises" / slug / "exercise.json"
        spec.write_text(json.dumps({**json.loads(spec.read_text()), "isolation": isolation}))
    r = subprocess.run([markbook(), "check", "--course", str(course)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "cp1-functions  PASS" in r.stdout and "cp1-shared  PASS" in r.stdout, r.stdout
    shared = r.stdout.split("cp1-shared  PASS", 1)[1].split("exercises checked")[0]
    assert f'warning: Isolation "shared": {RISK}' in shared, r.stdout
    assert r.stdout.count(RISK) == 1, r.stdout


def test_server_the_teachers_exercise_list_and_health_mark_shared_exercises(server):
    """make_course's cp1-always is shared; cp1-functions and cp1-past are not."""
    teacher = teacher_of(server)
    rows = {e["slug"]: e for e in teacher.get("/api/exercises").json()}
    assert rows["cp1-always"]["isolation"] == "shared"
    assert RISK in rows["cp1-always"]["isolation_warning"]
    for slug in ("cp1-functions", "cp1-past"):
        assert rows[slug]["isolation"] == "process" and "isolation_warning" not in rows[slug]
    health = teacher.get("/api/health").json()
    assert health["shared_exercises"] == ["cp1-always"]
    assert RISK in health["shared_warning"]
    # Students and strangers learn nothing of it.
    ada = student(server, "ada")
    for e in ada.get("/api/exercises").json():
        assert "isolation" not in e and "isolation_warning" not in e
    for c in (ada, server.client()):
        assert "shared_exercises" not in c.get("/api/health").json()
