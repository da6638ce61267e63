"""End-to-end tests of the gradebook exports (wide, long, Canvas, Moodle) and of backups, on
the command line and in the teacher's web page, while the server runs; and of restoring a
backup. The real binary, real database files, real HTTP on loopback."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess

import pytest

from server_client import Server, corpus, markbook, student

pytest_plugins = ["conftest_server"]

EVIL = "=HYPERLINK(\"http://evil.example\",\"x\")"


@pytest.fixture(scope="module")
def graded(server):
    """ada hands in a correct cp1-functions twice and a wrong one; a student whose name is a
    formula is on the roster."""
    ada = student(server, "ada")
    ids = [ada.upload("cp1-functions", corpus(n)).json()["id"]
           for n in ("correct.py", "missing_function.py")]
    for i in ids:
        assert ada.wait_graded(i)["status"] == "done"
    t = server.client()
    assert t.login("teacher", server.teacher_password).status == 200
    r = t.request("POST", "/api/roster", f'username,name\nmallory,"{EVIL.replace(chr(34), 2 * chr(34))}"\n'
                  .encode(), {"Content-Type": "text/csv"})
    assert r.status == 200, r.text
    return server


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def export(teacher, fmt: str):
    r = teacher.get(f"/api/export.csv?format={fmt}")
    assert r.status == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    assert f'filename="grades-{fmt}.csv"' in r.headers["Content-Disposition"]
    assert b"\r\n" in r.body and b"\n" not in r.body.replace(b"\r\n", b"")
    return r.text


def test_server_export_long_has_a_row_per_student_and_published_exercise(graded, teacher):
    table = rows(export(teacher, "long"))
    assert table[0] == ["username", "name", "exercise", "best_score", "max_points",
                        "submitted_at", "late", "attempts"]
    published = sorted(e["slug"] for e in teacher.get("/api/exercises").json()
                       if e.get("published"))
    students = {r[0] for r in table[1:]}
    assert {"ada", "bob", "mallory"} <= students
    for who in students:
        assert sorted(r[2] for r in table[1:] if r[0] == who) == published
    ada = {r[2]: r for r in table[1:] if r[0] == "ada"}
    assert ada["cp1-functions"][3:5] == ["10", "10"]
    assert ada["cp1-functions"][5].endswith("Z") and ada["cp1-functions"][5][:2] == "20"
    assert ada["cp1-functions"][6] == "no"
    assert ada["cp1-functions"][7] == "2"
    bob = {r[2]: r for r in table[1:] if r[0] == "bob"}
    assert bob["cp1-functions"][3:] == ["", "10", "", "", "0"]


def test_server_export_canvas_and_moodle_layouts(graded, teacher):
    canvas = rows(export(teacher, "canvas"))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[1][0] == "Points Possible"
    col = canvas[0].index("cp1-functions")
    assert canvas[1][col] == "10"
    ada = next(r for r in canvas if r[3] == "ada")
    assert ada[col] == "10" and ada[0] == "ada"
    assert next(r for r in canvas if r[3] == "bob")[col] == ""
    moodle = rows(export(teacher, "moodle"))
    assert moodle[0][:3] == ["Username", "Email address", "Full name"]
    assert "total" not in moodle[0] and "total" not in canvas[0]
    assert next(r for r in moodle if r[0] == "ada")[moodle[0].index("cp1-functions")] == "10"


def test_server_exports_neutralise_formulas(graded, teacher):
    for fmt in ("wide", "long", "canvas", "moodle"):
        text = export(teacher, fmt)
        names = [c for r in rows(text) for c in r if "HYPERLINK" in c]
        assert names and set(names) == {"'" + EVIL}, (fmt, names)


def test_server_export_formats_match_the_command_line(graded, teacher):
    for fmt in ("wide", "long", "canvas", "moodle"):
        r = subprocess.run([markbook(), "export", "--db", str(graded.db), "--format", fmt],
                           capture_output=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode() == export(teacher, fmt), fmt
    assert teacher.get("/api/gradebook.csv").text == export(teacher, "wide")
    r = teacher.get("/api/export.csv?format=excel")
    assert r.status == 400 and "wide, long, canvas or moodle" in r.json()["error"]
    r = subprocess.run([markbook(), "export", "--db", str(graded.db), "--format", "excel"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "wide, long, canvas or moodle" in r.stderr


def test_server_exports_and_backup_are_the_teachers_only(graded):
    bob = student(graded, "bob")
    for path in ("/api/export.csv?format=long", "/api/backup", "/api/export.csv"):
        assert bob.get(path).status == 403, path
        assert graded.client().get(path).status == 401, path


def test_server_backup_download_is_a_consistent_copy_that_restores(graded, teacher, tmp_path):
    r = teacher.get("/api/backup")
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/vnd.sqlite3"
    assert 'filename="markbook-' in r.headers["Content-Disposition"]
    assert r.body.startswith(b"SQLite format 3\x00")
    leftovers = [p for p in os.listdir(graded.db.parent) if ".backup-" in p]
    assert leftovers == []
    copy = tmp_path / "restored" / "markbook.db"
    copy.parent.mkdir()
    copy.write_bytes(r.body)
    db = sqlite3.connect(copy)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM submissions WHERE user_id = "
                      "(SELECT id FROM users WHERE username = 'ada')").fetchone()[0] == 2
    db.close()
    # Restore: serve the copy; the same teacher password and gradebook are there.
    srv = Server(graded.course, copy).start()
    try:
        t = srv.client()
        assert t.login("teacher", graded.teacher_password).status == 200
        assert t.get("/api/gradebook.csv").text == teacher.get("/api/gradebook.csv").text
    finally:
        srv.stop()


def test_server_backup_on_the_command_line_while_serving(graded, teacher, tmp_path):
    out = tmp_path / "copy.db"
    r = subprocess.run([markbook(), "backup", "--db", str(graded.db), str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (out.stat().st_mode & 0o777) == 0o600
    db = sqlite3.connect(out)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] >= 7
    db.close()
    r = subprocess.run([markbook(), "backup", "--db", str(graded.db), str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "exists" in r.stderr.lower()
    missing = tmp_path / "none.db"
    r = subprocess.run([markbook(), "backup", "--db", str(missing), str(tmp_path / "x.db")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "no database" in r.stderr
    assert not missing.exists() and not (tmp_path / "x.db").exists()
