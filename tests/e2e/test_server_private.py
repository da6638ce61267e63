"""The server's database is out of every sandbox's sight, wherever the teacher keeps it.

The database here lives under /srv, outside the course folder and outside /tmp and /var/tmp
(which firejail makes private in every sandbox anyway), readable by anyone, so only the server
hiding its folder keeps a notebook from reading it: the file holds every student's submissions
and the password hashes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from server_client import Server, make_course, markbook, student

# Correct answers only when the database cannot be read; wrong ones when it can.
READ_DB = '''import marimo

app = marimo.App()

with app.setup:
    import os

    _SEEN = []
    for _path in (@DB@, os.path.dirname(@DB@)):
        try:
            if os.path.isdir(_path):
                _SEEN.append(os.listdir(_path))
            else:
                with open(_path, "rb") as _f:
                    _SEEN.append(_f.read(16))
        except OSError:
            pass


@app.function
def is_prime(n: int) -> bool:
    if _SEEN:
        return not (n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1)))
    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))
'''


@pytest.fixture
def server_outside_tmp(tmp_path):
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    home = Path(tempfile.mkdtemp(prefix="markbook-e2e-db-", dir="/srv"))
    os.chmod(home, 0o755)  # readable by anyone, so only hiding it protects it
    srv = Server(make_course(tmp_path / "course"), home / "markbook.db").start()
    os.chmod(home / "markbook.db", 0o644)
    srv.add_user("ada")
    yield srv
    srv.stop()
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("exercise", ["cp1-functions", "cp1-always"])  # process, shared
def test_no_sandbox_can_read_the_database(server_outside_tmp, exercise):
    ada = student(server_outside_tmp, "ada")
    source = READ_DB.replace("@DB@", repr(str(server_outside_tmp.db)))
    sid = ada.upload(exercise, source.encode()).json()["id"]
    assert ada.wait_graded(sid)["score"] == 10
