"""Changing the hidden tests and regrading, end to end: students' submissions graded, the
teacher changes a hidden test and restarts the server (same database), sees how many
submissions were graded with the old tests, regrades them while uploads keep coming,
previews old best -> new best per student, applies or discards, and the audit table says so."""

from __future__ import annotations

import sqlite3
import subprocess
import time


from server_client import (CORPUS, ELEVEN, TWO_THREE, exercise, markbook, student,
                           teacher_of)

pytest_plugins = ["conftest_server"]

CORRECT = (CORPUS / "correct.py").read_bytes()


def wait_regraded(c, slug: str, timeout: float = 60) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        g = c.get(f"/api/exercises/{slug}/regrade").json()
        if g["graded"] == g["total"]:
            return g
        time.sleep(0.2)
    raise AssertionError(f"regrade of {slug} not done in {timeout} s: {g}")


def test_regrade_after_the_tests_change_previews_and_applies(server):
    srv, password = server, server.teacher_password
    ada, bob = student(srv, "ada"), student(srv, "bob")
    a = ada.wait_graded(ada.upload("cp1-functions", TWO_THREE).json()["id"])
    b = bob.wait_graded(bob.upload("cp1-functions", CORRECT).json()["id"])
    assert (a["score"], b["score"]) == (5, 10)
    t = teacher_of(srv, password)
    assert exercise(t, "cp1-functions")["stale"] == 0
    r = t.post_json("/api/exercises/cp1-functions/regrade", {})
    assert r.status == 409 and "all" in r.json()["error"]

    test_file = srv.course / "hidden" / "cp1-functions" / "test_cp1_functions.py"
    test_file.write_text(test_file.read_text() + ELEVEN)
    srv.stop()
    srv.start()
    srv.teacher_password = password  # printed at the first start only
    t = teacher_of(srv, password)
    assert exercise(t, "cp1-functions")["stale"] == 2
    assert exercise(t, "cp1-always")["stale"] == 0

    # Students and CSRF-less requests are refused, and nothing starts.
    assert ada.post_json("/api/exercises/cp1-functions/regrade", {}).status == 403
    assert ada.get("/api/exercises/cp1-functions/regrade").status == 403
    assert t.post_json("/api/exercises/cp1-functions/regrade", {}, csrf=False).status == 403
    assert t.get("/api/exercises/cp1-functions/regrade").status == 404

    r = t.post_json("/api/exercises/cp1-functions/regrade", {})
    assert r.status == 202, r.text
    assert r.json()["total"] == 2 and r.json()["status"] == "running"
    assert t.post_json("/api/exercises/cp1-functions/regrade", {}).status == 409
    # An upload during the regrade is graded with the new tests at once.
    new = ada.wait_graded(ada.upload("cp1-functions", TWO_THREE).json()["id"])
    assert new["score"] == 3.34 and len(new["tests"]) == 3
    g = wait_regraded(t, "cp1-functions")
    assert g["errors"] == 0
    assert {s["username"]: (s["old_best"], s["new_best"]) for s in g["students"]} == {
        "ada": (5, 3.34), "bob": (10, 10)}
    # Nothing changed before the teacher applies.
    assert ada.get(f"/api/submissions/{a['id']}").json()["score"] == 5
    r = t.post_json("/api/exercises/cp1-functions/regrade/apply", {})
    assert r.status == 200, r.text
    assert r.json()["status"] == "applied"
    after = ada.get(f"/api/submissions/{a['id']}").json()
    assert after["score"] == 3.34 and [x["name"] for x in after["tests"]] == [
        "test_small", "test_edge", "test_eleven"]
    assert exercise(t, "cp1-functions")["stale"] == 0
    book = t.get("/api/gradebook").json()
    scores = {s["username"]: s["scores"]["cp1-functions"] for s in book["students"]}
    assert (scores["ada"], scores["bob"]) == (3.34, 10)
    with sqlite3.connect(srv.db) as db:
        rows = db.execute("SELECT action, subject, old_value, new_value FROM audit "
                          "WHERE action LIKE 'regrade%' ORDER BY id").fetchall()
    assert rows[0][0] == "regrade-started"
    assert ("regrade", f"user ada, regrade {g['id']}", "5", "3.34") in rows
    assert rows[-1] == ("regrade-applied", f"regrade {g['id']}", "", "")

    # A second regrade of everything, discarded, changes nothing.
    r = t.post_json("/api/exercises/cp1-functions/regrade", {"all": True})
    assert r.status == 202 and r.json()["total"] == 3
    wait_regraded(t, "cp1-functions")
    assert t.post_json("/api/exercises/cp1-functions/regrade/discard", {}).status == 200
    assert t.post_json("/api/exercises/cp1-functions/regrade/apply", {}).status == 409
    assert ada.get(f"/api/submissions/{a['id']}").json()["score"] == 3.34


def test_regrade_from_the_command_line_waits_for_the_server_and_applies(server):
    srv = server
    run = [markbook(), "regrade", "--db", str(srv.db)]
    r = subprocess.run(run + ["nosuch"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no exercise \"nosuch\"" in r.stderr
    r = subprocess.run(run + ["--all", "--apply", "cp1-always"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "No submission of cp1-always" in r.stdout, r.stdout
    bob = student(srv, "bob")
    bob.wait_graded(bob.upload("cp1-always", CORRECT).json()["id"])
    r = subprocess.run(run + ["--all", "--apply", "cp1-always"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Started regrade" in r.stdout and "graded 1 of 1" in r.stdout
    assert "bob" in r.stdout and "10 -> 10" in r.stdout
    assert "Applied: the gradebook has the new scores." in r.stdout
    with sqlite3.connect(srv.db) as db:
        assert db.execute("SELECT count(*) FROM audit WHERE action = 'regrade-applied' "
                          "AND actor_id IS NULL").fetchone()[0] == 1
