"""Attacks on `markbook serve` from the network, against the real binary on loopback: session
fixation, expiry and logout, password guessing, path traversal, oversized and malformed
requests and chunked uploads that never end (slow clients and floods of connections are in
test_server_load.py). Every loop is bounded and every socket closed; the servers these tests
start stop with them."""

from __future__ import annotations

import re
import select
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from server_client import ROOT, Server, make_course, student

pytest_plugins = ["conftest_server"]

HIDDEN = ROOT / "hidden" / "cp1-functions" / "test_cp1_functions.py"
HIDDEN_LINE = next(ln.strip() for ln in HIDDEN.read_text().splitlines()
                   if ln.strip().startswith("assert"))


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send `data` as is on a fresh connection; return everything the server answers until
    it closes or stays silent for `timeout` seconds."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                m = re.search(rb"(?i)content-length:\s*(\d+)", out)
                head, _, body = out.partition(b"\r\n\r\n")
                if m and len(body) >= int(m[1]):
                    break
    return out


def status_of(reply: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    return int(m[1]) if m else 0


def alive(server: Server) -> bool:
    return server.client().get("/api/health").status == 200


def fresh_server(tmp_path: Path, *users: str, **kw: Any) -> Server:
    srv = Server(make_course(tmp_path / "course"), tmp_path / "markbook.db", **kw).start()
    for name in users:
        srv.add_user(name)
    return srv


# Sessions ------------------------------------------------------------------------------

def test_server_login_issues_a_new_token_whatever_cookie_came_with_it(server):
    """Session fixation: a token planted before login is never the one that logs in."""
    planted = "ab" * 32
    c = server.client()
    c.cookie = planted
    r = c.login("ada")
    assert r.status == 200 and c.cookie != planted
    assert re.fullmatch(r"[0-9a-f]{64}", c.cookie)
    attacker = server.client()
    attacker.cookie = planted
    assert attacker.get("/api/me").status == 401
    # Two logins of the same person are two different sessions with their own CSRF tokens.
    c2 = server.client()
    c2.cookie = c.cookie  # even a valid session's cookie is replaced at login
    assert c2.login("ada").status == 200
    assert c2.cookie != c.cookie and c2.csrf != c.csrf
    assert c.get("/api/me").status == 200 and c2.get("/api/me").status == 200


def test_server_logout_ends_the_session_on_the_server(server):
    """A copy of the cookie kept after logout (a shared computer) is worth nothing."""
    c = student(server, "bob")
    stolen = server.client()
    stolen.cookie, stolen.csrf = c.cookie, c.csrf
    assert stolen.get("/api/me").status == 200
    assert c.request("POST", "/api/logout").status == 200
    assert stolen.get("/api/me").status == 401
    r = stolen.post_json("/api/submissions", {"exercise": "cp1-functions", "source": "x=1\n"})
    assert r.status == 401
    assert stolen.request("POST", "/api/logout").status == 401


def test_server_an_expired_session_is_refused(server):
    """Expiry is decided by the server from its database, not by the cookie's Max-Age."""
    c = student(server, "cy")
    other = student(server, "cy")
    with sqlite3.connect(server.db, timeout=10) as db:
        n = db.execute("UPDATE sessions SET expires_at = CAST(strftime('%s','now') AS INT)"
                       " - 1 WHERE id = (SELECT max(id) FROM sessions WHERE user_id ="
                       " (SELECT id FROM users WHERE username = 'cy') AND id <"
                       " (SELECT max(id) FROM sessions))").rowcount
    assert n == 1
    assert c.get("/api/me").status == 401
    r = c.post_json("/api/submissions", {"exercise": "cp1-functions", "source": "x=1\n"})
    assert r.status == 401
    assert other.get("/api/me").status == 200, "only the expired session ends"


def test_server_password_guessing_is_slowed_per_address(tmp_path):
    """20 failed logins from one address, spread over many usernames, lock that address
    out, for the right password too; the answer says how long to wait."""
    srv = fresh_server(tmp_path, "ada")
    try:
        c = srv.client()
        statuses = [c.login(f"guess{i}", "wrong").status for i in range(20)]
        assert statuses == [401] * 20
        started = time.monotonic()
        r = c.login("ada")
        assert r.status == 429, r.text
        assert 0 < int(r.headers["Retry-After"]) <= 15 * 60
        assert time.monotonic() - started < 5  # refused at once, without hashing
        for i in range(30):  # and it stays refused, whatever name is tried
            assert c.login(f"other{i}", "wrong").status == 429
    finally:
        srv.stop()


# Paths ---------------------------------------------------------------------------------

TRAVERSALS = [
    "/exercises/../hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/cp1-functions/../../hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/%2e%2e/hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/%2E%2E/hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/cp1-functions/..%2f..%2fhidden%2fcp1-functions%2ftest_cp1_functions.py",
    "/exercises/cp1-functions/%2e%2e%2f%2e%2e%2fhidden/cp1-functions/test_cp1_functions.py",
    "/exercises/%252e%252e/hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/cp1-functions/..%252f..%252fhidden%252fcp1-functions%252ftest_cp1_functions.py",
    "/exercises/cp1-functions/..\\..\\hidden\\cp1-functions\\test_cp1_functions.py",
    "/exercises/cp1-functions/..%5c..%5chidden%5ccp1-functions%5ctest_cp1_functions.py",
    "/exercises/cp1-functions/%c0%ae%c0%ae/%c0%ae%c0%ae/hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/cp1-functions/....//....//hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/cp1-functions/%00../../hidden/cp1-functions/test_cp1_functions.py",
    "/exercises/../../../../etc/passwd",
    "/exercises/cp1-always/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/exercises/cp1-always//etc/passwd",
    "/exercises/cp1-always/%2fetc%2fpasswd",
    "/exercises/cp1-functions/../cp1-functions/solution.py",
    "/exercises/cp1-functions/../../hidden/cp1-functions/solution.py",
    "/../hidden/cp1-functions/test_cp1_functions.py",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/static/../../../etc/passwd",
    "/api/../hidden/cp1-functions/test_cp1_functions.py",
    "/hidden/cp1-functions/test_cp1_functions.py",
    "/markbook.db",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_server_path_traversal_reaches_nothing_outside_the_course_list(server, path):
    """Raw requests (no client normalizes them) as a logged-in student: 4xx, and no byte of
    the hidden tests, /etc/passwd or the database in the answer."""
    ada = student(server, "ada")
    request = (f"GET {path} HTTP/1.1\r\nHost: x\r\nCookie: markbook_session={ada.cookie}\r\n"
               "Connection: close\r\n\r\n").encode()
    reply = raw(server.port, request)
    assert 400 <= status_of(reply) < 500 or status_of(reply) == 0, reply[:300]
    assert HIDDEN_LINE.encode() not in reply
    assert b"root:x:0:0" not in reply and b"SQLite format" not in reply
    assert b"def is_prime" not in reply or b"return None" in reply  # only ever the scaffold
    assert alive(server)


# Malformed and oversized requests ------------------------------------------------------

def test_server_survives_oversized_and_malformed_headers(server):
    """Each is refused or dropped; the server answers the next request normally."""
    port = server.port
    cases = [
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 200_000 + b"\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20_000 + b"\r\n",
        b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/health?" + b"a=b&" * 50_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 99999999999999999999\r\n\r\n{}",
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}\r\n0\r\n\r\n",
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nzz\r\n",
        b"\x00\x01\x02\xff" * 1000 + b"\r\n\r\n",
        b"GET /api/health HTTP/9.9\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nCookie: markbook_session=" + b"%" * 5000
        + b"\r\n\r\n",
    ]
    for data in cases:
        reply = raw(port, data, timeout=15)
        code = status_of(reply)
        assert code == 0 or 400 <= code < 600 or code == 200 and data.startswith(
            b"GET /api/health"), (data[:80], reply[:200])
        assert alive(server), data[:80]


def test_server_cuts_a_chunked_upload_that_never_ends(server):
    """An endless chunked body is refused at the limit, not read to the end: the server
    answers 413 while the client is still sending, well before 64 MiB."""
    ada = student(server, "ada")
    before = len(ada.get("/api/submissions").json())
    head = ("POST /api/submissions HTTP/1.1\r\nHost: x\r\n"
            f"Cookie: markbook_session={ada.cookie}\r\nX-CSRF-Token: {ada.csrf}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"x" * 65536
    sent = 0
    reply = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        prefix = b'{"exercise": "cp1-functions", "source": "'
        s.sendall(head + b"%x\r\n%s\r\n" % (len(prefix), prefix))
        deadline = time.monotonic() + 60
        while sent < 64 * 1024 * 1024 and time.monotonic() < deadline:
            try:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break
        s.settimeout(10)
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
                if b"\r\n\r\n" in reply and b"}" in reply:
                    break
        except (socket.timeout, ConnectionResetError):
            pass
    assert status_of(reply) == 413, reply[:300]
    assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    assert alive(server)
    assert len(ada.get("/api/submissions").json()) == before, "nothing was stored"


# Many and slow connections: test_server_load.py.


def test_server_refuses_numbers_no_integer_can_hold(server, teacher):
    """An override of 1e300 points is a sentence (422), not undefined behaviour in C (make
    test-asan's UBSan would stop the server)."""
    ada = student(server, "ada")
    r = ada.post_json("/api/submissions", {"exercise": "cp1-functions", "source": "x = 1\n"})
    assert r.status == 202, r.text
    sid = r.json()["id"]
    for score in ("1e300", "-1e300", "9223372036854775808", "1.555", "1e6000"):
        body = f'{{"score": {score}, "comment": "why"}}'.encode()
        r = teacher.request("POST", f"/api/submissions/{sid}/override", body,
                            {"Content-Type": "application/json"})
        assert r.status == 422, (score, r.status, r.text)
    assert alive(server)
