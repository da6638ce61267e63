"""End-to-end tests of the endpoints the web UI needs beyond the basic API: a submission's
source, the class dashboard, disk and database size in the health report, and the
"practice in the browser" files with their MIME types. The real binary on a loopback port."""

from __future__ import annotations

import os

import pytest

from server_client import Server, corpus, make_course, markbook, student

PRACTICE = {
    "index.html": b"<!doctype html><script>window.x = 1</script><p>practice</p>",
    "assets/index-Ab12.js": b"console.log(1)",
    "assets/worker.mjs": b"export {}",
    "pyodide/pyodide.asm.wasm": b"\0asm\1\0\0\0",
    "pyodide/pyodide-lock.json": b"{}",
    "pyodide/python_stdlib.data": b"\1\2\3",
    "wheels/marimo_base-0.1-py3-none-any.whl": b"PK\3\4",
    ".secret": b"hidden file",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    tmp = tmp_path_factory.mktemp("ui")
    course = make_course(tmp / "course")
    practice = course / "exercises" / "cp1-always" / "practice"
    for name, data in PRACTICE.items():
        (practice / name).parent.mkdir(parents=True, exist_ok=True)
        (practice / name).write_bytes(data)
    # A link that leads out of practice/ to the hidden tests.
    os.symlink(course / "hidden" / "cp1-always" / "test_cp1_functions.py",
               practice / "leak.py")
    srv = Server(course, tmp / "markbook.db").start()
    for name in ("ada", "bob"):
        srv.add_user(name)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def graded(server):
    """ada's graded submission of cp1-always (half right)."""
    ada = student(server, "ada")
    r = ada.upload("cp1-always", corpus("partly_right.py"))
    assert r.status == 202, r.text
    return ada.wait_graded(r.json()["id"])


@pytest.fixture
def teacher(server):
    c = server.client()
    assert c.login("teacher", server.teacher_password).status == 200
    return c


def test_source_goes_to_its_student_and_the_teacher_only(server, graded, teacher):
    sid = graded["id"]
    r = student(server, "ada").get(f"/api/submissions/{sid}/source")
    assert r.status == 200
    assert r.body == corpus("partly_right.py")
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert teacher.get(f"/api/submissions/{sid}/source").body == corpus("partly_right.py")
    assert student(server, "bob").get(f"/api/submissions/{sid}/source").status == 404
    assert server.client().get(f"/api/submissions/{sid}/source").status == 401
    assert teacher.get("/api/submissions/999999/source").status == 404
    assert teacher.get(f"/api/submissions/{sid}x/source").status == 404


def test_dashboard_shows_the_queue_uploads_and_pass_rates(server, graded, teacher):
    r = teacher.get("/api/dashboard")
    assert r.status == 200, r.text
    d = r.json()
    assert d["workers"] == 2 and 0 <= d["grading"] <= 2
    assert d["queue_length"] == 0 and d["waiting"] == []
    assert len(d["uploads_per_minute"]) == 10
    assert sum(d["uploads_per_minute"]) >= 1
    ex = {e["slug"]: e for e in d["exercises"]}
    assert "broken" not in ex
    tests = {t["name"]: t for t in ex["cp1-always"]["tests"]}
    assert tests["test_small"]["passed"] == 1 and tests["test_small"]["attempted"] == 1
    assert tests["test_edge"]["passed"] == 0 and tests["test_edge"]["attempted"] == 1
    assert tests["test_small"]["description"].startswith("Small numbers")
    assert ex["cp1-always"]["students"] == 1
    assert all(t["attempted"] == 0 for t in ex["cp1-functions"]["tests"])


def test_dashboard_counts_the_latest_submission_and_lists_the_queue(server, graded, teacher):
    ada = student(server, "ada")
    r = ada.upload("cp1-always", corpus("correct.py"))
    assert r.status == 202
    waiting = teacher.get("/api/dashboard").json()["waiting"]
    if waiting:  # unless it was graded already
        assert waiting[0]["student"] == "ada" and waiting[0]["exercise"] == "cp1-always"
    ada.wait_graded(r.json()["id"])
    ex = {e["slug"]: e for e in teacher.get("/api/dashboard").json()["exercises"]}
    tests = {t["name"]: t for t in ex["cp1-always"]["tests"]}
    assert tests["test_edge"]["passed"] == 1 and tests["test_edge"]["attempted"] == 1


def test_dashboard_is_the_teachers(server):
    r = student(server, "bob").get("/api/dashboard")
    assert r.status == 403
    assert server.client().get("/api/dashboard").status == 401
    assert student(server, "bob").request("POST", "/api/dashboard").status == 405


def test_health_tells_the_teacher_disk_and_database_size(server, teacher):
    h = teacher.get("/api/health").json()
    assert h["disk_free_bytes"] > 0
    assert h["db_size_bytes"] >= os.path.getsize(server.db) > 0
    anonymous = server.client().get("/api/health").json()
    assert "disk_free_bytes" not in anonymous and "db_size_bytes" not in anonymous
    assert "db_size_bytes" not in student(server, "ada").get("/api/health").json()


def test_practice_is_listed_where_it_exists(server):
    ex = {e["slug"]: e for e in student(server, "ada").get("/api/exercises").json()}
    assert ex["cp1-always"]["practice"] == "/practice/cp1-always/"
    assert "practice" not in ex["cp1-functions"]


@pytest.mark.parametrize("path,ctype", [
    ("", "text/html; charset=utf-8"),
    ("index.html", "text/html; charset=utf-8"),
    ("assets/index-Ab12.js", "text/javascript; charset=utf-8"),
    ("assets/worker.mjs", "text/javascript; charset=utf-8"),
    ("pyodide/pyodide.asm.wasm", "application/wasm"),
    ("pyodide/pyodide-lock.json", "application/json"),
    ("pyodide/python_stdlib.data", "application/octet-stream"),
    ("wheels/marimo_base-0.1-py3-none-any.whl", "application/zip"),
])
def test_practice_files_have_their_mime_type(server, path, ctype):
    r = student(server, "ada").get(f"/practice/cp1-always/{path}")
    assert r.status == 200, r.text
    assert r.headers["Content-Type"] == ctype
    assert r.body == PRACTICE[path or "index.html"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self'" in csp  # no CDN: the export must be offline
    assert r.headers["Cache-Control"].startswith("private")


def test_practice_stays_inside_its_folder(server):
    ada = student(server, "ada")
    assert ada.get("/practice/cp1-always").status == 302
    for path in ("/practice/cp1-always/.secret", "/practice/cp1-always/leak.py",
                 "/practice/cp1-always/../exercise.json",
                 "/practice/cp1-always/%2e%2e/exercise.json",
                 "/practice/cp1-always/assets/", "/practice/cp1-always/assets",
                 "/practice/cp1-functions/", "/practice/broken/", "/practice/nope/"):
        r = ada.get(path)
        assert r.status == 404, (path, r.status)
        assert b"hidden file" not in r.body and b"def test_" not in r.body
    assert server.client().get("/practice/cp1-always/").status == 401


def test_the_app_keeps_its_strict_policy(server):
    r = server.client().get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    for name in ("app.js", "student.js", "teacher.js", "style.css"):
        r = server.client().get(f"/{name}")
        assert r.status == 200 and len(r.body) < 40000, name
