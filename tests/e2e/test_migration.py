"""A database made by a markbook that kept whole points (database version 1) is opened by this
one, which keeps hundredths (version 2): every stored score, points and max_points is
multiplied by 100, so the gradebook and the exports show the same points, the audit keeps its
text, and the file ends with the same tables, columns, indexes, views and triggers as a new
one made from schema.sql."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from server_client import markbook

OLD_SCHEMA = Path(__file__).parent / "data" / "schema-v1.sql"

TESTS_JSON = json.dumps([
    {"name": "a", "description": "", "passed": 1, "points": 5, "max_points": 5,
     "outcome": "passed", "message": "", "detail": ""},
    {"name": "b", "description": "", "passed": 1, "points": 5, "max_points": 5,
     "outcome": "passed", "message": "", "detail": ""}])

# Version 1 rows: two exercises (one with a late policy), three students, graded, overridden,
# late and waiting submissions with their tests, a regrade item waiting to be applied and an
# audited override.
ROWS = f"""
INSERT INTO users (id, username, name, role, password_hash, created_at) VALUES
    (1, 'teacher', 'T', 'teacher', '$2b$11$x', 0), (2, 'ada', 'Ada', 'student', '$2b$11$x', 0),
    (3, 'bob', 'Bob', 'student', '$2b$11$x', 0), (4, 'cy', 'Cy', 'student', '$2b$11$x', 0);
INSERT INTO exercises (id, slug, title, phase, max_points, due_at, due, feedback, late_penalty,
    late_max_days, scaffold, tests_hash, published, loaded_at) VALUES
    (1, 'cp1', 'One', 1, 10, NULL, NULL, 'always', NULL, NULL, '', 'h1', 1, 0),
    (2, 'late', 'Late', 1, 12, '1970-01-01T00:16:40Z', 1000, 'always', 15, 7, '', 'h2', 1, 0);
INSERT INTO plan_tests VALUES (1, 0, 't.py::a', 'a', '', 5), (1, 1, 't.py::b', 'b', '', 5),
    (2, 0, 't.py::c', 'c', '', 12);
INSERT INTO submissions (id, user_id, exercise_id, source, status, score, max_points,
    created_at, graded_at, attempts, tests_hash, override_score, override_comment,
    override_by, override_at) VALUES
    (1, 2, 1, 'x', 'done', 5, 10, 500, 501, 1, 'h1', NULL, '', NULL, NULL),
    (2, 2, 1, 'x', 'done', 4, 10, 600, 601, 1, 'h1', 9, 'Ill that day', 1, 700),
    (3, 3, 2, 'x', 'done', 7, 12, 2000, 2001, 1, 'h2', NULL, '', NULL, NULL),
    (4, 3, 1, 'x', 'queued', NULL, 10, 800, NULL, 0, '', NULL, '', NULL, NULL),
    (5, 4, 1, 'x', 'done', 0, 10, 900, 901, 1, 'h1', NULL, '', NULL, NULL);
INSERT INTO test_results VALUES
    (1, 0, 'a', '', 1, 5, 5, 'passed', '', ''), (1, 1, 'b', '', 0, 0, 5, 'failed', 'no', 'E'),
    (3, 0, 'c', '', 1, 7, 12, 'passed', '', '');
INSERT INTO regrades VALUES (1, 1, 'h3', 'running', 1, 1000, NULL);
INSERT INTO regrade_items (regrade_id, submission_id, status, score, tests, attempts,
    tests_hash) VALUES (1, 1, 'done', 10, '{TESTS_JSON}', 1, 'h3');
INSERT INTO audit (at, actor_id, action, subject, old_value, new_value, comment) VALUES
    (700, 1, 'override', 'submission 2 (ada, cp1)', '4/10', '9/10', 'Ill that day');
PRAGMA application_id = {0x6d6b626b};
PRAGMA user_version = 1;
"""


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    return subprocess.run([markbook(), *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def shape(db: Path) -> dict:
    """Every table's columns (name, type, not null, default, key) and the names and kinds of
    the other objects: what a migrated file must share with a new one."""
    with sqlite3.connect(db) as conn:
        objects = conn.execute("SELECT type, name FROM sqlite_schema WHERE name NOT LIKE "
                               "'sqlite_%' ORDER BY type, name").fetchall()
        return {"objects": objects, "columns": {
            name: conn.execute(f"PRAGMA table_info({name})").fetchall()
            for kind, name in objects if kind == "table"}}


@pytest.fixture
def old_db(tmp_path) -> Path:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(OLD_SCHEMA.read_text())
        conn.executescript(ROWS)
    # What version 1 made of it: whole points, the late one rounded to the nearest point.
    assert rows(db, "SELECT username, slug, best_score, max_points FROM gradebook "
                    "ORDER BY username, slug") == [
        ("ada", "cp1", 9, 10), ("ada", "late", None, 12), ("bob", "cp1", None, 10),
        ("bob", "late", 6, 12), ("cy", "cp1", 0, 10), ("cy", "late", None, 12)]
    return db


def test_an_old_database_reads_the_same_points_in_hundredths(old_db, tmp_path):
    r = run("export", "--db", str(old_db), "--format", "long")
    assert r.returncode == 0, r.stderr
    export = [row[:5] for row in csv.reader(io.StringIO(r.stdout))]
    assert export == [
        ["username", "name", "exercise", "best_score", "max_points"],
        ["ada", "Ada", "cp1", "9", "10"], ["ada", "Ada", "late", "", "12"],
        ["bob", "Bob", "cp1", "", "10"],
        # 7 points a day late less 15 %: 5.95, now to the nearest hundredth (it was 6).
        ["bob", "Bob", "late", "5.95", "12"],
        ["cy", "Cy", "cp1", "0", "10"], ["cy", "Cy", "late", "", "12"]]
    assert rows(old_db, "PRAGMA user_version") == [(2,)]
    assert rows(old_db, "SELECT id, score, max_points, override_score FROM submissions "
                        "ORDER BY id") == [
        (1, 500, 1000, None), (2, 400, 1000, 900), (3, 700, 1200, None),
        (4, None, 1000, None), (5, 0, 1000, None)]
    assert rows(old_db, "SELECT max_points FROM exercises ORDER BY id") == [(1000,), (1200,)]
    assert rows(old_db, "SELECT points FROM plan_tests ORDER BY exercise_id, position") == [
        (500,), (500,), (1200,)]
    assert rows(old_db, "SELECT submission_id, position, points, max_points FROM "
                        "test_results ORDER BY 1, 2") == [
        (1, 0, 500, 500), (1, 1, 0, 500), (3, 0, 700, 1200)]
    (score, tests), = rows(old_db, "SELECT score, tests FROM regrade_items")
    assert score == 1000
    assert [(t["name"], t["points"], t["max_points"], t["outcome"]) for t in
            json.loads(tests)] == [("a", 500, 500, "passed"), ("b", 500, 500, "passed")]
    assert rows(old_db, "SELECT user_id, exercise_id, score, attempts FROM best_scores "
                        "ORDER BY 1, 2") == [(2, 1, 900, 2), (3, 1, None, 1), (3, 2, 595, 1),
                                            (4, 1, 0, 1)]
    assert rows(old_db, "SELECT count(*) FROM (SELECT * FROM best_scores EXCEPT "
                        "SELECT * FROM best_of)") == [(0,)]
    # The audit is text people read, in points: still true.
    assert rows(old_db, "SELECT old_value, new_value FROM audit") == [("4/10", "9/10")]

    # Applying the waiting regrade gives its tests to the submission, in hundredths.
    r = run("regrade", "--db", str(old_db), "--apply", "cp1")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "ada" in r.stdout and "9 -> 10" in r.stdout, r.stdout
    assert rows(old_db, "SELECT score FROM submissions WHERE id = 1") == [(1000,)]
    assert rows(old_db, "SELECT points, max_points FROM test_results WHERE submission_id = 1 "
                        "ORDER BY position") == [(500, 500), (500, 500)]

    # The migrated file has the shape of a new one.
    new = tmp_path / "new.db"
    r = run("user", "add", "--db", str(new), "--role", "teacher", "t", stdin="a password\n")
    assert r.returncode == 0, r.stderr
    assert rows(new, "PRAGMA user_version") == [(2,)]
    assert shape(old_db) == shape(new)


def test_a_migration_that_fails_leaves_the_old_file_as_it_was(old_db):
    # A file the step cannot convert (a regrade item whose tests are not JSON, which only a
    # damaged file has): the step stops, and its transaction leaves every row as it was.
    with sqlite3.connect(old_db) as conn:
        conn.execute("UPDATE regrade_items SET tests = 'not json'")
    r = run("export", "--db", str(old_db))
    assert r.returncode != 0
    assert "cannot upgrade the database to version 2" in r.stderr, r.stderr
    assert rows(old_db, "PRAGMA user_version") == [(1,)]
    assert rows(old_db, "SELECT score, override_score FROM submissions WHERE id = 2") == [
        (4, 9)]
