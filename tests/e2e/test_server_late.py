"""Late submissions and the teacher's overrides, end to end: the real server on a course
whose exercise was due a day and a half ago with a late policy, students uploading over
HTTP, the teacher overriding a score, and the database file read back for the audit."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time

import pytest

from server_client import Server, corpus, make_course, markbook, student

LATE = {"penalty_per_day": 10, "max_days": 7}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    tmp = tmp_path_factory.mktemp("late")
    course = make_course(tmp / "course")
    # Due 36 hours ago: an upload now is 2 started days late, 10% a day.
    due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 36 * 3600))
    spec_path = course / "exercises" / "cp1-past" / "exercise.json"
    spec = json.loads(spec_path.read_text())
    spec.update({"due_at": due, "late": LATE, "test_timeout_s": 3})
    spec_path.write_text(json.dumps(spec))
    srv = Server(course, tmp / "markbook.db").start()
    for name in ("ada", "bob", "cy"):
        srv.add_user(name)
    yield srv
    srv.stop()


@pytest.fixture
def teacher(server):
    c = server.client()
    assert c.login("teacher", server.teacher_password).status == 200
    return c


def graded(c, exercise: str, name: str) -> dict:
    r = c.upload(exercise, corpus(name))
    assert r.status == 202, r.text
    return c.wait_graded(r.json()["id"])


def audit_rows(server) -> list[tuple]:
    with sqlite3.connect(server.db) as db:
        return db.execute("SELECT action, subject, old_value, new_value, comment, actor_id "
                          "FROM audit ORDER BY id").fetchall()


def test_late_submission_is_marked_and_penalised_for_student_and_teacher(server, teacher):
    ada = student(server, "ada")
    ex = {e["slug"]: e for e in ada.get("/api/exercises").json()}
    assert ex["cp1-past"]["late"] == LATE
    assert ex["cp1-functions"]["late"] is None
    s = graded(ada, "cp1-past", "correct.py")
    assert s["status"] == "done" and s["score"] == 10
    assert s["late"] is True and s["days_late"] == 2
    assert s["penalised_score"] == 8 and s["final_score"] == 8 and s["override"] is None
    listed = ada.get("/api/submissions?exercise=cp1-past").json()
    assert listed[0]["late"] is True and listed[0]["final_score"] == 8
    as_teacher = teacher.get(f"/api/submissions/{s['id']}").json()
    assert as_teacher["late"] is True and as_teacher["penalised_score"] == 8
    on_time = graded(ada, "cp1-functions", "correct.py")
    assert on_time["late"] is False and on_time["days_late"] == 0
    assert on_time["final_score"] == 10
    book = teacher.get("/api/gradebook").json()
    row = next(st for st in book["students"] if st["username"] == "ada")
    assert row["scores"]["cp1-past"] == 8 and row["scores"]["cp1-functions"] == 10
    assert row["late"] == ["cp1-past"], row  # the grid marks the late cell
    rows = list(csv.DictReader(io.StringIO(teacher.get("/api/gradebook.csv").text)))
    assert next(r for r in rows if r["username"] == "ada")["cp1-past"] == "8"


def test_override_sets_the_score_the_student_and_gradebook_see_and_is_audited(
        server, teacher):
    bob = student(server, "bob")
    s = graded(bob, "cp1-past", "correct.py")
    assert s["final_score"] == 8
    r = teacher.post_json(f"/api/submissions/{s['id']}/override",
                          {"score": 10, "comment": "Late because of the school trip."})
    assert r.status == 200, r.text
    o = r.json()
    assert o["final_score"] == 10 and o["penalised_score"] == 8
    assert o["override"]["score"] == 10 and o["override"]["by"] == "teacher"
    seen = bob.get(f"/api/submissions/{s['id']}").json()
    assert seen["final_score"] == 10
    assert seen["override"]["comment"] == "Late because of the school trip."
    assert "by" not in seen["override"]
    book = teacher.get("/api/gradebook").json()
    assert next(st for st in book["students"]
                if st["username"] == "bob")["scores"]["cp1-past"] == 10
    last = audit_rows(server)[-1]
    assert last[:5] == ("override", f"submission {s['id']} (bob, cp1-past)", "8/10", "10/10",
                        "Late because of the school trip.")
    assert last[5] is not None
    r = teacher.post_json(f"/api/submissions/{s['id']}/override",
                          {"score": None, "comment": "Trip was optional after all."})
    assert r.status == 200, r.text
    assert r.json()["override"] is None and r.json()["final_score"] == 8
    assert audit_rows(server)[-1][:4] == ("override-removed",
                                          f"submission {s['id']} (bob, cp1-past)",
                                          "10/10", "8/10")


def test_override_refuses_students_missing_csrf_and_bad_input_and_stores_nothing(
        server, teacher):
    cy = student(server, "cy")
    s = graded(cy, "cp1-functions", "correct.py")
    url = f"/api/submissions/{s['id']}/override"
    before = audit_rows(server)
    assert cy.post_json(url, {"score": 0, "comment": "mine"}).status == 403
    assert teacher.post_json(url, {"score": 1, "comment": "x"}, csrf=False).status == 403
    for body, status in (({"score": 11, "comment": "too many"}, 422),
                         ({"score": -1, "comment": "negative"}, 422),
                         ({"score": 2.555, "comment": "hundredths only"}, 422),
                         ({"score": "7", "comment": "text"}, 422),
                         ({"score": 7}, 422),
                         ({"score": 7, "comment": ""}, 422),
                         ({"score": 7, "comment": "x" * 2001}, 422)):
        r = teacher.post_json(url, body)
        assert r.status == status, (body, r.text)
        assert r.json()["error"]
    r = teacher.request("POST", url, b"score=7", {"Content-Type": "text/plain"})
    assert r.status == 415
    assert teacher.post_json("/api/submissions/99999/override",
                             {"score": 1, "comment": "nobody"}).status == 404
    assert teacher.get(url).status == 405
    assert audit_rows(server) == before
    assert teacher.get(f"/api/submissions/{s['id']}").json()["override"] is None
