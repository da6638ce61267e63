"""Fixtures of the end-to-end tests of `markbook serve`, loaded by test_server*.py through
`pytest_plugins` (tests/e2e/conftest.py belongs to the grading tests)."""

from __future__ import annotations

import os

import pytest

from server_client import Client, Server, make_course, markbook


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.access(markbook(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook()} (run make)")
    tmp = tmp_path_factory.mktemp("server")
    srv = Server(make_course(tmp / "course"), tmp / "markbook.db").start()
    for name in ("ada", "bob", "cy", "dee", "eve"):
        srv.add_user(name)
    yield srv
    srv.stop()


@pytest.fixture
def teacher(server) -> Client:
    c = server.client()
    assert c.login("teacher", server.teacher_password).status == 200
    return c
