"""End-to-end tests of the class list: a teacher imports a roster (in the web page and on the
command line), prints login slips, students choose their own password at first login, and a
teacher resets one. The real binary, a real database file, real HTTP on loopback."""

from __future__ import annotations

import sqlite3
import subprocess

from server_client import Client, Response, markbook

pytest_plugins = ["conftest_server"]

CANVAS = ('\ufeff"Student","ID","SIS User ID","SIS Login ID","Section","Lab 1 (77)"\n'
          '"    Points Possible",,,,,10\n'
          '"Lovelace, Ada",101,S1,r_ada,P1,8\n'
          '"Student, Test",999,,,P1,\n')


def post_roster(c: Client, text: str, **kw) -> Response:
    return c.request("POST", "/api/roster", text.encode(), {"Content-Type": "text/csv"}, **kw)


def slips(c: Client) -> dict[str, dict]:
    r = c.get("/api/roster")
    assert r.status == 200, r.text
    return {s["username"]: s for s in r.json()["students"]}


def test_server_roster_import_slips_and_first_login(server, teacher):
    r = post_roster(teacher, "username;name;email\nr_kim;Kim Lee;kim@example.org\n"
                    "r_lou;\"Lou; Reed\";\n")
    assert r.status == 200, r.text
    body = r.json()
    assert (body["added"], body["updated"], body["unchanged"]) == (2, 0, 0)
    pw = {s["username"]: s["one_time_password"] for s in body["new_students"]}
    listed = slips(teacher)
    assert listed["r_kim"]["one_time_password"] == pw["r_kim"]
    assert listed["r_lou"]["name"] == "Lou; Reed"
    assert listed["r_kim"]["email"] == "kim@example.org"
    assert listed["r_kim"]["password_set"] is False
    assert listed["ada"]["one_time_password"] is None  # made with `user add`

    kim = server.client()
    r = kim.login("r_kim", pw["r_kim"])
    assert r.status == 200 and r.json()["user"]["must_change_password"] is True
    # Until the student has chosen a password, nothing else is allowed.
    for method, path in (("GET", "/api/exercises"), ("GET", "/api/submissions"),
                         ("GET", "/exercises/cp1-functions.py")):
        assert kim.request(method, path).status == 403, path
    assert kim.upload("cp1-functions", b"x = 1\n").status == 403
    assert kim.get("/api/me").json()["user"]["must_change_password"] is True
    r = kim.post_json("/api/password", {"password": "short"})
    assert r.status == 422 and "8" in r.json()["error"]
    r = kim.post_json("/api/password", {"password": pw["r_kim"]})
    assert r.status == 422 and "slip" in r.json()["error"]
    assert kim.post_json("/api/password", {"password": "kim's own secret"}, csrf=False).status == 403
    assert kim.post_json("/api/password", {"password": "kim's own secret"}).status == 200
    assert kim.get("/api/exercises").status == 200
    assert kim.get("/api/me").json()["user"]["must_change_password"] is False
    # The slip is spent: it no longer shows, nor logs in.
    assert slips(teacher)["r_kim"]["one_time_password"] is None
    assert slips(teacher)["r_kim"]["password_set"] is True
    assert server.client().login("r_kim", pw["r_kim"]).status == 401
    assert server.client().login("r_kim", "kim's own secret").status == 200
    # Changing it again needs the current one.
    assert kim.post_json("/api/password", {"password": "another secret"}).status == 403
    assert kim.post_json("/api/password", {"password": "another secret",
                                           "current": "kim's own secret"}).status == 200


def test_server_roster_reimport_updates_and_keeps_passwords(server, teacher):
    assert post_roster(teacher, "username,name\nr_ann,Ann\n").status == 200
    first = slips(teacher)["r_ann"]["one_time_password"]
    r = post_roster(teacher, "username,name,email\nr_ann,Ann Smith,ann@example.org\nr_new,New,\n")
    assert r.status == 200, r.text
    assert (r.json()["added"], r.json()["updated"]) == (1, 1)
    assert [s["username"] for s in r.json()["new_students"]] == ["r_new"]
    after = slips(teacher)
    assert after["r_ann"]["one_time_password"] == first
    assert after["r_ann"]["name"] == "Ann Smith" and after["r_ann"]["email"] == "ann@example.org"
    assert "ada" in after  # nobody is deleted
    db = sqlite3.connect(server.db)
    rows = db.execute("SELECT action, subject, old_value, new_value, actor_id IS NOT NULL "
                      "FROM audit WHERE subject = 'user r_ann' ORDER BY id").fetchall()
    db.close()
    assert rows == [("roster-add", "user r_ann", "", "Ann", 1),
                    ("roster-update", "user r_ann", "Ann", "Ann Smith <ann@example.org>", 1)]


def test_server_roster_with_errors_imports_nothing(server, teacher):
    before = slips(teacher)
    r = post_roster(teacher, "username,name\nr_ok,Fine\nnot valid,X\nr_ok,Twice\n")
    assert r.status == 422
    body = r.json()
    assert "nothing was imported" in body["error"]
    assert any(e.startswith("line 3:") for e in body["errors"]), body
    assert any(e.startswith("line 4:") and "line 2" in e for e in body["errors"]), body
    assert slips(teacher) == before
    r = post_roster(teacher, "id,grade\n1,2\n")
    assert r.status == 422 and "username column" in r.json()["errors"][0]
    r = post_roster(teacher, "username\n" + "x" * (1024 * 1024))
    assert r.status == 413


def test_server_roster_reset_ends_the_session_and_gives_a_new_slip(server, teacher):
    r = post_roster(teacher, "username\nr_rex\n")
    pw = r.json()["new_students"][0]["one_time_password"]
    rex = server.client()
    assert rex.login("r_rex", pw).status == 200
    assert rex.post_json("/api/password", {"password": "rex chose this"}).status == 200
    r = teacher.post_json("/api/roster/reset", {"username": "r_rex"})
    assert r.status == 200, r.text
    new = r.json()["one_time_password"]
    assert new != pw and slips(teacher)["r_rex"]["one_time_password"] == new
    assert rex.get("/api/me").status == 401
    assert server.client().login("r_rex", "rex chose this").status == 401
    again = server.client()
    assert again.login("r_rex", new).status == 200
    assert again.get("/api/exercises").status == 403
    assert teacher.post_json("/api/roster/reset", {"username": "nobody"}).status == 404
    assert teacher.post_json("/api/roster/reset", {"username": "teacher"}).status == 404


def test_server_roster_reset_ends_a_wait_for_too_many_failed_logins(server, teacher):
    """The 429 tells the student their teacher can reset their password: the reset lets them
    log in at once, from the computer that failed."""
    pw = post_roster(teacher, "username\nr_sue\n").json()["new_students"][0]["one_time_password"]
    sue = server.client()
    for _ in range(5):
        assert sue.login("r_sue", "forgotten").status == 401
    assert sue.login("r_sue", pw).status == 429
    r = teacher.post_json("/api/roster/reset", {"username": "r_sue"})
    assert r.status == 200, r.text
    assert sue.login("r_sue", r.json()["one_time_password"]).status == 200


def test_server_roster_is_the_teachers_only(server):
    c = server.client()
    assert c.login("bob").status == 200
    assert c.get("/api/roster").status == 403
    assert post_roster(c, "username\nr_evil\n").status == 403
    assert c.post_json("/api/roster/reset", {"username": "ada"}).status == 403
    anon = server.client()
    assert anon.get("/api/roster").status == 401
    t = server.client()
    assert t.login("teacher", server.teacher_password).status == 200
    assert post_roster(t, "username\nr_nocsrf\n", csrf=False).status == 403
    assert "r_nocsrf" not in slips(t) and "r_evil" not in slips(t)
    assert t.request("DELETE", "/api/roster").status == 405


def test_server_roster_import_on_the_command_line_takes_a_canvas_export(server, teacher,
                                                                        tmp_path):
    f = tmp_path / "canvas.csv"
    f.write_text(CANVAS, encoding="utf-8")
    r = subprocess.run([markbook(), "roster", "import", "--db", str(server.db), str(f)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "1 student added" in r.stdout
    pw = slips(teacher)["r_ada"]["one_time_password"]
    assert pw and pw in r.stdout
    assert slips(teacher)["r_ada"]["name"] == "Lovelace, Ada"
    assert server.client().login("r_ada", pw).status == 200
    bad = tmp_path / "bad.csv"
    bad.write_text("username\nok_one\nno good\n")
    r = subprocess.run([markbook(), "roster", "import", "--db", str(server.db), str(bad)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "line 3:" in r.stderr and "nothing was imported" in r.stderr
    assert "ok_one" not in slips(teacher)
    r = subprocess.run([markbook(), "roster", "reset", "--db", str(server.db), "r_ada"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and slips(teacher)["r_ada"]["one_time_password"] in r.stdout


def test_server_login_slips_page_is_served_without_inline_script(server, teacher):
    r = teacher.get("/slips.html")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    assert '<script src="/slips.js"' in r.text and "<script>" not in r.text
    assert teacher.get("/slips.js").status == 200
    urls = teacher.get("/api/roster").json()["urls"]
    assert all(u.startswith("http://") and u.endswith(f":{server.port}/") for u in urls)
