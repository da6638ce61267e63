"""Reloading the course folder while the class works: the teacher changes a hidden test, adds
an exercise, breaks one and mends it, and presses "reload" (POST /api/course/reload) or sends
SIGHUP. Nothing restarts: uploads keep being accepted and graded, the new course replaces the
old one in one step, and a folder that cannot be read leaves the course as it was."""

from __future__ import annotations

import json
import os
import shutil
import signal

import pytest

from server_client import (CORPUS, ELEVEN, Server, make_course, markbook, student, teacher_of,
                           wait_reloaded)
from server_client import reload_course as reload

CORRECT = (CORPUS / "correct.py").read_bytes()
# Each test starts servers of its own, so tools/run-tests may run them side by side.
SPREAD_TESTS = True


@pytest.fixture
def srv(tmp_path):
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    s = Server(make_course(tmp_path / "course"), tmp_path / "markbook.db").start()
    for name in ("ada", "bob"):
        s.add_user(name)
    yield s
    s.stop()


def slugs(c) -> dict:
    return {e["slug"]: e for e in c.get("/api/exercises").json()}


def test_only_the_teacher_reloads_and_only_with_csrf(srv):
    ada, t = student(srv, "ada"), teacher_of(srv)
    assert ada.post_json("/api/course/reload", {}).status == 403
    assert ada.get("/api/course/reload").status == 403
    assert srv.client().post_json("/api/course/reload", {}, csrf=False).status == 401
    assert t.post_json("/api/course/reload", {}, csrf=False).status == 403
    st = t.get("/api/course/reload").json()
    assert st == {"reloading": False, "reloads": 0, "reloaded_at": None, "message": ""}


def test_changed_tests_show_as_stale_without_a_restart(srv):
    ada, t = student(srv, "ada"), teacher_of(srv)
    first = ada.wait_graded(ada.upload("cp1-functions", CORRECT).json()["id"])
    assert first["score"] == 10
    assert slugs(t)["cp1-functions"]["stale"] == 0

    test_file = srv.course / "hidden" / "cp1-functions" / "test_cp1_functions.py"
    test_file.write_text(test_file.read_text() + ELEVEN)
    st = reload(t)
    assert "Hidden tests changed: cp1-functions " in st["message"], st
    assert "cp1-always" not in st["message"]
    ex = slugs(t)
    assert ex["cp1-functions"]["stale"] == 1 and ex["cp1-functions"]["published"]
    assert ex["cp1-always"]["stale"] == 0
    # New uploads are graded with the new tests: the plan has the new test in it.
    again = ada.wait_graded(ada.upload("cp1-functions", CORRECT).json()["id"])
    assert "test_eleven" in [x["name"] for x in again["tests"]], again
    # The old submission keeps its score until a regrade, which is now possible.
    assert t.post_json("/api/exercises/cp1-functions/regrade", {}).status == 202


def test_a_new_exercise_appears_and_a_broken_one_is_withdrawn_then_mended(srv):
    ada, t = student(srv, "ada"), teacher_of(srv)
    assert "cp1-new" not in slugs(ada)
    course = srv.course
    shutil.copytree(course / "exercises" / "cp1-functions", course / "exercises" / "cp1-new")
    (course / "exercises" / "cp1-new" / "cp1-functions.py").rename(
        course / "exercises" / "cp1-new" / "cp1-new.py")
    shutil.copytree(course / "hidden" / "cp1-functions", course / "hidden" / "cp1-new")
    spec_path = course / "exercises" / "cp1-always" / "exercise.json"
    spec = spec_path.read_text()
    spec_path.write_text("{ not json")

    st = reload(t)
    assert "New: cp1-new" in st["message"], st
    seen = slugs(ada)
    assert "cp1-new" in seen and "cp1-always" not in seen
    assert ada.get("/exercises/cp1-always.py").status == 404
    r = ada.upload("cp1-always", CORRECT)
    assert r.status in (404, 409, 422), r.text
    assert "cp1-always" in t.get("/api/exercises").text
    broken = slugs(t)["cp1-always"]
    assert not broken["published"] and "exercise.json" in broken["problem"], broken
    graded = ada.wait_graded(ada.upload("cp1-new", CORRECT).json()["id"])
    assert (graded["status"], graded["score"]) == ("done", 10)
    # The server's terminal says what was not published, and why.
    srv.log.seek(0)
    out = srv.log.read()
    assert "Reloaded the course folder: " in out and "cp1-always" in out.split("Reloaded")[-1]

    spec_path.write_text(spec)
    reload(t)
    assert "cp1-always" in slugs(ada)
    assert ada.get("/exercises/cp1-always.py").status == 200


def test_sighup_reloads_and_uploads_go_on_during_a_reload(srv):
    ada, bob, t = student(srv, "ada"), student(srv, "bob"), teacher_of(srv)
    shutil.copytree(srv.course / "exercises" / "cp1-functions",
                    srv.course / "exercises" / "cp1-hup")
    (srv.course / "exercises" / "cp1-hup" / "cp1-functions.py").rename(
        srv.course / "exercises" / "cp1-hup" / "cp1-hup.py")
    shutil.copytree(srv.course / "hidden" / "cp1-functions", srv.course / "hidden" / "cp1-hup")
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGHUP)
    # While the new exercise goes through the publish gate, uploads are accepted at once.
    ids = []
    for c in (ada, bob):
        r = c.upload("cp1-functions", CORRECT)
        assert r.status == 202, r.text
        ids.append((c, r.json()["id"]))
    st = wait_reloaded(t, 0)
    assert "New: cp1-hup" in st["message"], st
    assert srv.proc.poll() is None, "SIGHUP must not stop the server"
    for c, sid in ids:
        assert c.wait_graded(sid)["score"] == 10
    assert "cp1-hup" in slugs(ada)


def test_an_unreadable_course_folder_leaves_the_course_as_it_was(srv):
    ada, t = student(srv, "ada"), teacher_of(srv)
    before = sorted(slugs(ada))
    (srv.course / "exercises").rename(srv.course / "exercises.moved")
    try:
        st = reload(t)
    finally:
        (srv.course / "exercises.moved").rename(srv.course / "exercises")
    assert "could not be reloaded" in st["message"] and "exercises" in st["message"], st
    assert sorted(slugs(ada)) == before
    assert ada.wait_graded(ada.upload("cp1-functions", CORRECT).json()["id"])["score"] == 10


def test_a_removed_exercise_keeps_its_grades_and_waiting_uploads_wait(srv):
    ada, t = student(srv, "ada"), teacher_of(srv)
    done = ada.wait_graded(ada.upload("cp1-past", CORRECT).json()["id"])
    shutil.move(str(srv.course / "exercises" / "cp1-past"), str(srv.course / "cp1-past.away"))
    st = reload(t)
    assert "No longer in the folder: cp1-past" in st["message"], st
    assert "cp1-past" not in slugs(ada)
    book = t.get("/api/gradebook").json()
    assert "cp1-past" in json.dumps(book) and done["score"] == 10
