"""End-to-end tests of `markbook serve`: the real binary on a free loopback port, a
temporary database and a copy of the sample course, driven over HTTP as students and a
teacher would."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import time

from server_client import ROOT, Server, corpus, make_course, markbook, student

pytest_plugins = ["conftest_server"]

HIDDEN_TESTS = (ROOT / "hidden" / "cp1-functions" / "test_cp1_functions.py").read_text()

# Reads the hidden tests from its staging folder while grading and raises with their text
# (test_*.py: hidden/ also holds the notebook's own text, submission.py),
# so a careless server would show them to the student as the failure message.
LEAK_IN_TEST = b'''import marimo

__generated_with = "0.13.0"
app = marimo.App()

with app.setup:
    import glob


@app.function
def is_prime(n: int) -> bool:
    text = ""
    for path in glob.glob("hidden/test_*.py") + glob.glob("../hidden/test_*.py"):
        with open(path) as f:
            text += f.read()
    print(text)
    raise RuntimeError("LEAK " + text)
'''

# The same, while the notebook loads: the load error is the run's message.
LEAK_ON_LOAD = LEAK_IN_TEST.replace(b'''@app.function
def is_prime''', b'''    _text = ""
    for _path in glob.glob("hidden/test_*.py"):
        with open(_path) as _f:
            _text += _f.read()
    raise RuntimeError("LEAK " + _text)


@app.function
def is_prime''')

PROTECTED = [
    ("GET", "/api/me"), ("POST", "/api/logout"), ("GET", "/api/exercises"),
    ("GET", "/api/submissions"), ("POST", "/api/submissions"), ("GET", "/api/submissions/1"),
    ("GET", "/api/gradebook"), ("GET", "/api/gradebook.csv"),
    ("GET", "/exercises/cp1-functions.py"), ("GET", "/exercises/cp1-always/primes.txt"),
]


def hidden_lines_in(text: str) -> list[str]:
    """The lines of the hidden tests (long enough to be telling) that occur in text."""
    lines = [ln.strip() for ln in HIDDEN_TESTS.splitlines() if len(ln.strip()) >= 12]
    return [ln for ln in lines if ln in text]


def test_server_health_and_security_headers(server):
    c = server.client()
    r = c.get("/api/health")
    assert r.status == 200
    h = r.json()
    assert h["workers"] == 2 and h["sandbox"] == "ok" and h["ok"] is True
    assert "sandbox_message" not in h
    page = c.get("/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    for res in (r, page, c.get("/app.js"), c.get("/api/exercises")):
        assert "default-src 'self'" in res.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in res.headers["Content-Security-Policy"]
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        assert res.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in page.text and 'src="/app.js"' in page.text
    assert c.get("/app.js").headers["Content-Type"].startswith("text/javascript")
    assert c.get("/style.css").status == 200
    assert c.get("/schema.sql").status == 404
    assert c.get("/../schema.sql").status in (400, 404)


def test_server_login_sets_a_strict_httponly_cookie_and_logout_ends_it(server):
    c = server.client()
    r = c.login("ada", "wrong")
    assert r.status == 401 and "Wrong username or password" in r.json()["error"]
    assert c.login("nobody", "x").status == 401
    r = c.login("ada")
    assert r.status == 200
    assert r.json()["user"] == {"username": "ada", "name": "ada", "role": "student",
                                "must_change_password": False}
    assert len(r.json()["csrf_token"]) == 64
    cookie = r.headers["Set-Cookie"]
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="):
        assert attr in cookie
    me = c.get("/api/me")
    assert me.status == 200 and me.json()["csrf_token"] == c.csrf
    assert c.request("POST", "/api/logout", csrf=False).status == 403
    assert c.request("POST", "/api/logout").status == 200
    assert c.get("/api/me").status == 401


def test_server_login_needs_json(server):
    c = server.client()
    r = c.request("POST", "/api/login", b"username=ada&password=x",
                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415


def test_server_login_is_rate_limited_per_username(server):
    """5 wrong passwords for one username from one computer: that computer waits, even with
    the right password, while others log in there and the student logs in from their own."""
    c = server.client()
    for _ in range(5):
        assert c.login("eve", "wrong").status == 401
    r = c.login("eve")  # even the right password now waits
    assert r.status == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "Too many failed logins" in r.json()["error"]
    assert server.client().login("dee").status == 200  # others are not blocked
    own = server.client()
    own.source = "127.0.0.2"  # eve's own computer: a classmate cannot lock her out
    assert own.login("eve").status == 200
    assert c.login("eve").status == 429  # her login does not free the classmate's computer


def test_server_anonymous_gets_401_everywhere_but_login_health_and_ui(server):
    c = server.client()
    for method, path in PROTECTED:
        r = c.request(method, path, b"{}", {"Content-Type": "application/json"})
        assert r.status == 401, (method, path)
        assert "Log in" in r.json()["error"]
    c.cookie = "0" * 64  # a made-up session is no session
    assert c.get("/api/me").status == 401


def test_server_student_is_refused_the_gradebook(server, teacher):
    ada = student(server, "ada")
    for path in ("/api/gradebook", "/api/gradebook.csv"):
        r = ada.get(path)
        assert r.status == 403 and "teacher" in r.json()["error"]
        assert teacher.get(path).status == 200


def test_server_every_mutating_request_needs_the_csrf_token(server):
    ada = student(server, "ada")
    r = ada.post_json("/api/submissions", {"exercise": "cp1-functions", "source": "x = 1\n"},
                      csrf=False)
    assert r.status == 403 and "X-CSRF-Token" in r.json()["error"]
    r = ada.post_json("/api/submissions", {"exercise": "cp1-functions", "source": "x = 1\n"},
                      csrf=False, headers={"X-CSRF-Token": "f" * 64})
    assert r.status == 403
    assert ada.get("/api/submissions").json() == []


def test_server_lists_exercises_with_downloads(server, teacher):
    ada = student(server, "ada")
    ex = {e["slug"]: e for e in ada.get("/api/exercises").json()}
    assert sorted(ex) == ["cp1-always", "cp1-functions", "cp1-past"]  # broken is hidden
    e = ex["cp1-always"]
    assert e["title"] and e["phase"] == 1 and e["max_points"] == 10
    assert e["due_at"] is None and e["scaffold"] == "/exercises/cp1-always.py"
    assert e["data_files"] == ["/exercises/cp1-always/primes.txt"]
    assert "problem" not in e
    scaffold = ada.get("/exercises/cp1-functions.py")
    assert scaffold.status == 200
    assert scaffold.body == (ROOT / "exercises" / "cp1-functions" / "cp1-functions.py").read_bytes()
    assert 'filename="cp1-functions.py"' in scaffold.headers["Content-Disposition"]
    assert ada.get("/exercises/cp1-always/primes.txt").body == b"2 3 5 7\n"
    for path in ("/exercises/cp1-always/exercise.json", "/exercises/nope.py",
                 "/exercises/broken.py", "/exercises/cp1-always/../../hidden/cp1-always/solution.py",
                 "/exercises/cp1-always/%2e%2e/%2e%2e/hidden/cp1-always/solution.py"):
        r = ada.get(path)
        assert r.status in (400, 404), path
        assert b"def is_prime" not in r.body
    tex = {e["slug"]: e for e in teacher.get("/api/exercises").json()}
    assert tex["broken"]["published"] is False and "invalid JSON" in tex["broken"]["problem"]
    assert tex["cp1-functions"]["published"] is True


def test_server_refuses_bad_uploads_and_stores_nothing(server):
    cy = student(server, "cy")
    big = b"# " + b"x" * (1024 * 1024) + b"\n"
    r = cy.upload("cp1-functions", big)
    assert r.status == 413 and "1 MiB" in r.json()["error"]
    assert cy.upload("cp1-functions", big, chunks=True).status == 413
    huge = b"# " + b"x" * (8 * 1024 * 1024)
    assert cy.upload("cp1-functions", huge, chunks=True).status == 413
    r = cy.post_json("/api/submissions", {"exercise": "cp1-functions", "source": big.decode()})
    assert r.status == 413
    r = cy.upload("cp1-functions", corpus("not_utf8.py"))
    assert r.status == 422 and "UTF-8" in r.json()["error"]
    assert cy.upload("cp1-functions", b"x = 1\x00\n").status == 422
    r = cy.post_json("/api/submissions", {"exercise": "cp1-functions", "source": "x = 1\u0000\n"})
    assert r.status == 422
    r = cy.upload("no-such-exercise", corpus("correct.py"))
    assert r.status == 404 and "no exercise" in r.json()["error"]
    assert cy.upload("broken", corpus("correct.py")).status == 404
    r = cy.post_json("/api/submissions", {"exercise": "cp1-functions"})
    assert r.status == 400
    r = cy.request("POST", "/api/submissions", b"source", {"Content-Type": "text/plain"})
    assert r.status == 415
    assert cy.get("/api/submissions").json() == []


def test_server_grades_an_upload_and_shows_what_each_side_may_see(server, teacher):
    ada = student(server, "ada")
    r = ada.upload("cp1-past", corpus("partly_right.py"))
    assert r.status == 202
    assert r.json()["status"] == "queued"
    sid = r.json()["id"]
    s = ada.wait_graded(sid)
    assert s["status"] == "done" and s["score"] == 5 and s["max_points"] == 10
    assert s["exercise"] == "cp1-past" and s["student"] == "ada"
    assert s["created_at"].endswith("Z") and s["graded_at"].endswith("Z")
    assert s["position"] is None
    tests = {t["name"]: t for t in s["tests"]}
    assert set(tests) == {"test_small", "test_edge"}
    assert tests["test_small"]["passed"] is True and tests["test_small"]["points"] == 5
    edge = tests["test_edge"]
    assert edge["passed"] is False and edge["points"] == 0 and edge["max_points"] == 5
    assert edge["description"].startswith("Edge cases")
    assert edge["message"]  # the due date has passed: students see why it failed
    assert set(edge) == {"name", "description", "passed", "points", "max_points", "message"}
    assert "flags" not in s and "output" not in s
    t = teacher.get(f"/api/submissions/{sid}").json()
    assert "flags" in t and "output" in t and "detail" in t["tests"][0]
    # The exercise list now shows the best score.
    ex = {e["slug"]: e for e in ada.get("/api/exercises").json()}
    assert ex["cp1-past"]["best_score"] == 5


def test_server_hides_failure_messages_before_the_due_date(server):
    bob = student(server, "bob")
    sid = bob.upload("cp1-functions", corpus("partly_right.py")).json()["id"]
    s = bob.wait_graded(sid)
    assert s["score"] == 5
    assert all(t["message"] == "" for t in s["tests"])


def test_server_never_shows_students_the_hidden_tests(server, teacher):
    dee = student(server, "dee")
    ids = [dee.upload(slug, src).json()["id"] for slug, src in (
        ("cp1-functions", LEAK_IN_TEST), ("cp1-always", LEAK_IN_TEST),
        ("cp1-always", LEAK_ON_LOAD))]
    for sid in ids:
        s = dee.wait_graded(sid)
        assert s["status"] == "done" and s["score"] == 0
        shown = dee.get(f"/api/submissions/{sid}").text
        assert hidden_lines_in(shown) == [], shown
        assert "LEAK" not in shown
        # The teacher sees what happened, hidden tests included.
        assert "LEAK" in teacher.get(f"/api/submissions/{sid}").text
    listing = dee.get("/api/submissions").text
    assert "LEAK" not in listing


def test_server_keeps_students_out_of_each_others_submissions(server, teacher):
    ada, bob = student(server, "ada"), student(server, "bob")
    sid = ada.post_json("/api/submissions", {"exercise": "cp1-functions",
                                             "source": corpus("correct.py").decode()})
    assert sid.status == 202
    sid = sid.json()["id"]
    r = bob.get(f"/api/submissions/{sid}")
    assert r.status == 404
    assert bob.get("/api/submissions/999999").status == 404
    assert bob.get("/api/submissions/abc").status == 404
    mine = bob.get("/api/submissions?student=ada").json()
    assert mine and all(s["student"] == "bob" for s in mine)
    assert all(s["student"] == "ada" for s in teacher.get("/api/submissions?student=ada").json())
    only = teacher.get("/api/submissions?exercise=cp1-past").json()
    assert only and all(s["exercise"] == "cp1-past" for s in only)
    assert teacher.get("/api/submissions?exercise=nope").status == 404
    assert ada.wait_graded(sid)["score"] == 10


def test_server_refuses_a_fourth_waiting_submission(server):
    cy = student(server, "cy")
    source = corpus("correct.py").decode()
    codes = [cy.post_json("/api/submissions", {"exercise": "cp1-functions", "source": source})
             for _ in range(4)]
    assert [r.status for r in codes[:3]] == [202, 202, 202]
    assert codes[3].status == 429 and "3 submissions waiting" in codes[3].json()["error"]
    assert "Retry-After" in codes[3].headers
    for r in codes[:3]:
        assert cy.wait_graded(r.json()["id"])["score"] == 10
    assert len(cy.get("/api/submissions").json()) == 3


def test_server_gradebook_keeps_the_best_score_and_exports_csv(server, teacher, tmp_path):
    ada = student(server, "ada")
    ids = [ada.upload("cp1-always", corpus(name)).json()["id"]
           for name in ("correct.py", "partly_right.py")]
    for sid in ids:
        ada.wait_graded(sid)
    gb = teacher.get("/api/gradebook").json()
    slugs = [e["slug"] for e in gb["exercises"]]
    assert slugs == ["cp1-always", "cp1-functions", "cp1-past"]
    row = next(s for s in gb["students"] if s["username"] == "ada")
    assert row["scores"]["cp1-always"] == 10
    assert row["total"] == sum(v or 0 for v in row["scores"].values())
    r = teacher.get("/api/gradebook.csv")
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["username", "name", "cp1-always", "cp1-functions", "cp1-past", "total"]
    ada_row = next(x for x in rows if x[0] == "ada")
    assert ada_row[2] == "10" and ada_row[5] == str(row["total"])
    eve_row = next(x for x in rows if x[0] == "eve")
    assert eve_row[2:] == ["", "", "", "0"]
    assert "teacher" not in [x[0] for x in rows]
    exported = subprocess.run([markbook(), "export", "--db", str(server.db)],
                              capture_output=True, text=True)
    assert exported.returncode == 0
    assert list(csv.reader(io.StringIO(exported.stdout))) == rows


def test_server_commands_refuse_a_file_that_is_not_a_markbook_database(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE photos (id INTEGER)")
    for path in (text, other):
        for args in (["export", "--db", str(path)],
                     ["user", "add", "--db", str(path), "--role", "student", "x"]):
            r = subprocess.run([markbook(), *args], input="pw\n", capture_output=True, text=True)
            assert r.returncode != 0
            assert "not a markbook database" in r.stderr or "another program" in r.stderr
    with sqlite3.connect(other) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("photos",)]


def test_server_user_add_creates_the_database_and_refuses_a_taken_name(tmp_path):
    db = tmp_path / "new.db"
    r = subprocess.run([markbook(), "user", "add", "--db", str(db), "--role", "student",
                        "--name", "Ada L.", "ada"], input="pw1\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (db.stat().st_mode & 0o077) == 0  # the sandbox user must not read it
    r = subprocess.run([markbook(), "user", "add", "--db", str(db), "--role", "student", "ada"],
                       input="pw2\n", capture_output=True, text=True)
    assert r.returncode != 0 and "already" in r.stderr
    r = subprocess.run([markbook(), "user", "add", "--db", str(db), "--role", "admin", "x"],
                       input="pw\n", capture_output=True, text=True)
    assert r.returncode == 2
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT name, role, password_hash FROM users").fetchone()
    assert row[0] == "Ada L." and row[1] == "student" and row[2].startswith("$2b$11$")


def test_server_listens_on_a_bare_port_and_stops_cleanly(tmp_path):
    """--listen PORT serves every address: this computer's URL is printed and answers, and a
    stop (SIGTERM) ends the server with status 0 and says so."""
    srv = Server(make_course(tmp_path / "course"), tmp_path / "markbook.db",
                 listen="{port}").start()
    try:
        assert f"On this computer: http://127.0.0.1:{srv.port}/" in srv.output
        assert srv.client().get("/api/health").status == 200
        assert srv.kill(15) == 0
        assert "Stopping: finishing the gradings" in srv.output, srv.output
    finally:
        srv.stop()


SLOW_CORRECT = corpus("correct.py").replace(
    b"import math\n", b"import math\n    import time\n    time.sleep(3)\n", 1)


def test_server_survives_kill_9_during_grading(tmp_path):
    course = make_course(tmp_path / "course")
    srv = Server(course, tmp_path / "markbook.db", workers=1).start()
    try:
        srv.add_user("ada")
        ada = srv.client()
        assert ada.login("ada").status == 200
        sid = ada.upload("cp1-functions", SLOW_CORRECT).json()["id"]
        end = time.monotonic() + 30
        while ada.get(f"/api/submissions/{sid}").json()["status"] != "grading":
            assert time.monotonic() < end
            time.sleep(0.05)
        srv.kill()
        srv.start()
        assert srv.teacher_password is None  # the teacher exists already
        assert "back in the queue" in srv.output
        ada.port = srv.port  # the same session works after the restart
        s = ada.wait_graded(sid)
        assert s["status"] == "done" and s["score"] == 10
        # SIGTERM: the server stops cleanly and leaves nothing half graded.
        sid = ada.upload("cp1-functions", SLOW_CORRECT).json()["id"]
        time.sleep(1)
        assert srv.kill(15) == 0
        with sqlite3.connect(srv.db) as db:
            status = db.execute("SELECT status FROM submissions WHERE id = ?", (sid,)).fetchone()
        assert status[0] in ("queued", "done")
    finally:
        srv.stop()
