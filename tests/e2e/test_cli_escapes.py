"""Untrusted text reaches the teacher's terminal inert: a notebook's load error and test
messages, test names, usernames and names from a roster, and the server's console lines may
hold ESC sequences (set the window title, clear the screen), carriage returns that draw a
fake line over a real one, C1 controls and line separators. markbook prints each as a
visible escape (\\x1b, \\r, \\u2028...). The assertions are on the bytes written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from server_client import ROOT, Server, markbook

# What a notebook or a teacher's file might carry: set the title, clear the screen, go to
# the start of the line and draw a fake result, a C1 CSI, a line separator, a bidi override.
EVIL = "\x1b]0;owned\x07\x1b[2J\ralice.py  10/10  done\x9b1m\u2028\u202e"

LOAD_ERROR = f'''import marimo

app = marimo.App()

with app.setup:
    raise ValueError({EVIL!r})


@app.function
def is_prime(n):
    return True
'''

TEST_MESSAGE = f'''import marimo

app = marimo.App()


@app.function
def is_prime(n):
    raise ValueError({EVIL!r})
'''

# A hidden test whose name carries the escapes: pytest collects any module-level name that
# starts with "test", and a module's dict takes any string as a name.
EVIL_TEST = f'''

def _evil():
    """Two is prime."""
    assert is_prime(2)


globals()["test_" + {EVIL!r}] = _evil
'''


def raw_controls(data: bytes) -> list[str]:
    """Every character of `data` a terminal would act on, but the line feed."""
    text = data.decode("utf-8", "replace")
    return sorted({f"U+{ord(ch):04X}" for ch in text
                   if (ord(ch) < 0x20 and ch != "\n") or 0x7F <= ord(ch) <= 0x9F
                   or ch in "\u2028\u2029\u202a\u202b\u202c\u202d\u202e"})


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    return subprocess.run([markbook(), *args], capture_output=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """cp1-functions, and `evil`: the same with a hidden test whose name carries escapes."""
    course = tmp_path_factory.mktemp("escapes") / "course"
    for slug in ("cp1-functions", "evil"):
        shutil.copytree(ROOT / "exercises" / "cp1-functions", course / "exercises" / slug)
        shutil.copytree(ROOT / "hidden" / "cp1-functions", course / "hidden" / slug)
        (course / "exercises" / slug / "cp1-functions.py").rename(
            course / "exercises" / slug / f"{slug}.py")
    tests = course / "hidden" / "evil" / "test_cp1_functions.py"
    tests.write_text(tests.read_text() + EVIL_TEST)
    return course


def test_grade_shows_escapes_from_a_notebook_load_error_and_test_messages(course, tmp_path):
    (tmp_path / "load.py").write_text(LOAD_ERROR)
    (tmp_path / "message.py").write_text(TEST_MESSAGE)
    r = run("grade", "--course", str(course), "--exercise", "cp1-functions",
            str(tmp_path / "load.py"), str(tmp_path / "message.py"))
    assert r.returncode == 0, r.stderr
    assert raw_controls(r.stdout) == [] and raw_controls(r.stderr) == [], r.stdout
    out = r.stdout.decode()
    # What the notebook said is all there, as escapes, on its own indented lines.
    shown = r"\x1b]0;owned\x07\x1b[2J\ralice.py  10/10  done\u009b1m\u2028\u202e"
    assert "while loading: " + shown in out, out
    assert "ValueError: " + shown in out, out
    assert not re.search(r"^alice\.py", out, re.M), out  # no line of the notebook's making
    # --json keeps the text as it was (JSON escapes it its own way).
    r = run("grade", "--course", str(course), "--exercise", "cp1-functions", "--json",
            str(tmp_path / "load.py"))
    assert EVIL in json.loads(r.stdout)[0]["message"]


def test_grade_and_check_show_escapes_from_test_names(course, tmp_path):
    (tmp_path / "nb.py").write_text(TEST_MESSAGE.replace("raise ValueError", "return 2 or "))
    r = run("grade", "--course", str(course), "--exercise", "evil", str(tmp_path / "nb.py"))
    assert raw_controls(r.stdout) == [], r.stdout
    assert rb"test_\x1b]0;owned\x07\x1b[2J\ralice.py" in r.stdout, r.stdout
    r = run("check", "--course", str(course), "evil")
    assert raw_controls(r.stdout) == [] and raw_controls(r.stderr) == [], r.stdout
    assert rb"test_\x1b]0;owned\x07\x1b[2J\ralice.py" in r.stdout, r.stdout


def test_roster_import_prints_usernames_and_names_escaped(tmp_path):
    db = tmp_path / "markbook.db"
    assert run("user", "add", "--db", str(db), "--role", "teacher", "t",
               input=b"a teacher password\n").returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(f"username,name\nok1,Fine\n{EVIL.replace(chr(0x2028), '')},X\n")
    r = run("roster", "import", "--db", str(db), str(bad))
    assert r.returncode != 0
    assert raw_controls(r.stdout) == [] and raw_controls(r.stderr) == [], r.stderr
    assert rb"\x1b]0;owned\x07\x1b[2J" in r.stderr, r.stderr
    # A name with a C1 control and a line separator is taken (it is not a line break in
    # the CSV), and shown escaped.
    good = tmp_path / "good.csv"
    good.write_text("username,name\nann,Ann\x9b2J\u2028Lee\n", encoding="utf-8")
    r = run("roster", "import", "--db", str(db), str(good))
    assert r.returncode == 0, r.stderr
    assert raw_controls(r.stdout) == [], r.stdout
    assert rb"Ann\u009b2J\u2028Lee" in r.stdout, r.stdout


def test_the_servers_console_shows_escapes_from_the_course_folder(tmp_path):
    """An exercise.json with a key full of escapes: the start-up lines say why it is not
    published, with the key shown escaped."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "exercises" / "cp1-functions", course / "exercises" / "cp1-functions")
    shutil.copytree(ROOT / "hidden" / "cp1-functions", course / "hidden" / "cp1-functions")
    (course / "exercises" / "odd").mkdir()
    (course / "exercises" / "odd" / "exercise.json").write_text(
        json.dumps({"title": "x", "phase": 1, "max_points": 1, EVIL: 1}))
    srv = Server(course, tmp_path / "markbook.db").start()
    try:
        log = Path(srv.log.name).read_bytes()
        assert b"NOT PUBLISHED" in log, log
        assert raw_controls(log) == [], log
        assert rb'unknown key "\x1b]0;owned\x07' in log, log
    finally:
        srv.stop()
