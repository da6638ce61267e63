"""Grading one submission again, end to end: a student's notebook is graded, the teacher
changes a hidden test in the course folder and reloads it, then grades that one submission
again (POST /api/submissions/<id>/regrade). The real server with one grader, a slow upload
holding the grader so the request is seen waiting, and the database file read back for the
tests' hash and the audit table."""

from __future__ import annotations

import json
import os
import sqlite3
import time

import pytest

from server_client import (CORPUS, ELEVEN, TWO_THREE, Server, exercise, make_course, markbook,
                           reload_course, student, teacher_of)

# Holds the only grader for a few seconds while it loads.
SLOW = b'''import marimo

app = marimo.App()

with app.setup:
    import time
    time.sleep(5)


@app.function
def is_prime(n):
    return n in (2, 3)
'''

CORRECT = (CORPUS / "correct.py").read_bytes()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    tmp = tmp_path_factory.mktemp("again")
    s = Server(make_course(tmp / "course"), tmp / "markbook.db", workers=1).start()
    for name in ("ada", "bob", "cy", "dee"):
        s.add_user(name)
    yield s
    s.stop()


def wait_status(c, sid: int, status: str, timeout: float = 30) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = c.get(f"/api/submissions/{sid}").json()
        if s["status"] == status:
            return s
        time.sleep(0.05)
    raise AssertionError(f"submission {sid} never was {status}: {s}")


def db_row(srv: Server, sql: str, *args) -> tuple:
    with sqlite3.connect(srv.db) as db:
        return db.execute(sql, args).fetchone()


def test_grade_again_uses_the_new_tests_keeps_the_override_and_is_audited(srv):
    ada, bob, cy, dee = (student(srv, n) for n in ("ada", "bob", "cy", "dee"))
    t = teacher_of(srv)
    a = ada.wait_graded(ada.upload("cp1-functions", TWO_THREE).json()["id"])
    c = cy.wait_graded(cy.upload("cp1-always", CORRECT).json()["id"])
    assert (a["score"], len(a["tests"]), c["score"]) == (5, 2, 10)
    r = t.post_json(f"/api/submissions/{a['id']}/override",
                    {"score": 6, "comment": "Partial credit for the idea."})
    assert r.status == 200 and r.json()["final_score"] == 6, r.text
    old_hash = db_row(srv, "SELECT tests_hash FROM submissions WHERE id = ?", a["id"])[0]

    test_file = srv.course / "hidden" / "cp1-functions" / "test_cp1_functions.py"
    test_file.write_text(test_file.read_text() + ELEVEN)
    st = reload_course(t)
    assert "Hidden tests changed: cp1-functions" in st["message"], st
    assert exercise(t, "cp1-functions")["stale"] == 1

    # The only grader is busy with bob's slow notebook: what the teacher asks for waits.
    slow = bob.upload("cp1-past", SLOW).json()["id"]
    wait_status(bob, slow, "grading")
    url = f"/api/submissions/{a['id']}/regrade"
    r = t.post_json(url, {})
    assert r.status == 202, r.text
    queued = r.json()
    assert queued["id"] == a["id"] and queued["status"] == "queued", queued
    # It goes next, ahead of an upload that arrives after it.
    d = dee.upload("cp1-functions", CORRECT).json()["id"]
    assert ada.get(f"/api/submissions/{a['id']}").json()["position"] == 1
    assert dee.get(f"/api/submissions/{d}").json()["position"] == 2

    # Refusals while it waits; none of them changes anything.
    r = t.post_json(url, {})
    assert r.status == 409 and "already waiting" in r.json()["error"], r.text
    r = t.post_json(f"/api/submissions/{c['id']}/regrade", {})
    assert r.status == 409 and f"Submission {a['id']}" in r.json()["error"], r.text
    assert ada.post_json(url, {}).status == 403
    assert cy.post_json(f"/api/submissions/{c['id']}/regrade", {}).status == 403
    assert t.post_json(url, {}, csrf=False).status == 403
    assert t.post_json("/api/submissions/999999/regrade", {}).status == 404
    assert t.get(url).status == 405
    r = t.request("POST", url, b"[]", {"Content-Type": "application/json"})
    assert r.status == 400 and "{}" in r.json()["error"], r.text
    assert t.request("POST", url, b"{}", {"Content-Type": "text/plain"}).status == 415
    assert db_row(srv, "SELECT status FROM submissions WHERE id = ?", c["id"]) == ("done",)

    again = ada.wait_graded(a["id"])
    assert again["status"] == "done"
    assert again["score"] == 3.34, again  # 10 points over three tests: 3.34, 3.33, 3.33
    assert [x["name"] for x in again["tests"]] == ["test_small", "test_edge", "test_eleven"]
    assert again["final_score"] == 6 and again["override"]["score"] == 6  # the teacher's word
    new_hash, current = db_row(srv, "SELECT s.tests_hash, e.tests_hash FROM submissions s "
                               "JOIN exercises e ON e.id = s.exercise_id WHERE s.id = ?",
                               a["id"])
    assert new_hash == current and new_hash != old_hash
    assert exercise(t, "cp1-functions")["stale"] == 0
    full = t.get(f"/api/submissions/{a['id']}").json()
    assert full["attempts"] == 1 and full["tests"][2]["outcome"] == "failed"
    actor, at, row = db_row(srv, "SELECT actor_id, at, action || '|' || subject || '|' || "
                            "old_value || '|' || new_value FROM audit WHERE action = "
                            "'grade-again'")
    assert row == f"grade-again|submission {a['id']} (ada, cp1-functions)|5/10|graded again"
    assert actor == db_row(srv, "SELECT id FROM users WHERE username = 'teacher'")[0]
    assert abs(at - time.time()) < 120
    assert db_row(srv, "SELECT count(*) FROM audit WHERE action = 'grade-again'") == (1,)


def test_grade_again_refuses_a_submission_whose_exercise_is_not_published(srv):
    cy, t = student(srv, "cy"), teacher_of(srv)
    c = cy.wait_graded(cy.upload("cp1-always", CORRECT).json()["id"])
    spec = srv.course / "exercises" / "cp1-always" / "exercise.json"
    spec.write_text(json.dumps({**json.loads(spec.read_text()), "max_points": 0}))
    reload_course(t)
    assert not exercise(t, "cp1-always")["published"]
    before = db_row(srv, "SELECT count(*) FROM audit")
    r = t.post_json(f"/api/submissions/{c['id']}/regrade", {})
    assert r.status == 409, r.text
    assert "cp1-always is not published" in r.json()["error"]
    assert "reload" in r.json()["error"]
    assert db_row(srv, "SELECT status FROM submissions WHERE id = ?", c["id"]) == ("done",)
    assert db_row(srv, "SELECT count(*) FROM audit") == before
