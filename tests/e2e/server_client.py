"""Helpers for the end-to-end tests of `markbook serve`: a copy of the sample course with
short time limits, a running server on a free loopback port, and an HTTP client that keeps
its session cookie and CSRF token as a browser would. The fixtures are in
conftest_server.py."""

from __future__ import annotations

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Optional

# How long a test waits for something the server does (starting, grading, reloading) before
# calling it hung. Only a hung server reaches it: on a busy 2-core machine a start that
# prepares several exercises in the sandbox can take minutes, and a test must not fail for it.
EVENT_TIMEOUT = 600.0
# Servers started and not yet stopped; any left when the tests end are killed, so a test that
# failed before its stop() leaves no markbook running.
_RUNNING: set = set()


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_RUNNING):
        if proc.poll() is None:
            proc.kill()
            proc.wait()


ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "cp1-functions"
PASSWORD = "a student password"

# A notebook whose is_prime is right for 2 and 3 only: 5/10 with the sample tests.
TWO_THREE = b'''import marimo

app = marimo.App()


@app.function
def is_prime(n):
    return n in (2, 3)
'''

# A hidden test to append to hidden/<slug>/test_cp1_functions.py: the tests change.
ELEVEN = '''

def test_eleven():
    """11 is prime."""
    assert is_prime(11)
'''


def markbook() -> str:
    return os.environ.get("MARKBOOK", str(ROOT / "markbook"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_course(dest: Path) -> Path:
    """Copy cp1-functions three times with different feedback rules and isolation, short
    limits, a data file, and one broken exercise."""
    for slug, extra in (
        ("cp1-functions", {}),
        # Shared isolation: the notebook can read the hidden tests, so what keeps them from
        # the student here is the server's own filter of failure messages.
        ("cp1-always", {"feedback": "always", "isolation": "shared"}),
        ("cp1-past", {"due_at": "2020-01-01T00:00:00Z"}),
    ):
        shutil.copytree(ROOT / "exercises" / "cp1-functions", dest / "exercises" / slug)
        shutil.copytree(ROOT / "hidden" / "cp1-functions", dest / "hidden" / slug)
        (dest / "exercises" / slug / "cp1-functions.py").rename(
            dest / "exercises" / slug / f"{slug}.py")
        spec = json.loads((dest / "exercises" / slug / "exercise.json").read_text())
        spec.update({"timeout_s": 10, "test_timeout_s": 5, **extra})
        (dest / "exercises" / slug / "exercise.json").write_text(json.dumps(spec))
    (dest / "exercises" / "cp1-always" / "primes.txt").write_text("2 3 5 7\n")
    (dest / "exercises" / "broken").mkdir()
    (dest / "exercises" / "broken" / "exercise.json").write_text('{"title": "x"')
    return dest


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """One browser: a session cookie and the CSRF token the login returned."""

    def __init__(self, port: int, tls: Optional[ssl.SSLContext] = None):
        self.port = port
        self.tls = tls  # HTTPS with this context (markbook serve --tls)
        # A second loopback address for requests to come from (127.0.0.2) plays a second
        # computer, for the server's per-address login throttle; None lets connect()
        # choose. Not every client binds: bind() takes an odd ephemeral port, as
        # free_port() does (connect() alone takes an even one), so a bound client could
        # take the port a test server is about to listen on.
        self.source: Optional[str] = None
        self.cookie: Optional[str] = None
        self.csrf: Optional[str] = None

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[dict[str, str]] = None, csrf: bool = True,
                chunks: Optional[list[bytes]] = None) -> Response:
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = f"markbook_session={self.cookie}"
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        source = (self.source, 0) if self.source else None
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                           context=self.tls, source_address=source) \
            if self.tls else http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                                        source_address=source)
        try:
            if chunks is not None:
                h["Transfer-Encoding"] = "chunked"
                conn.putrequest(method, path)
                for k, v in h.items():
                    conn.putheader(k, v)
                conn.endheaders()
                try:
                    for c in chunks:
                        conn.send(b"%x\r\n%s\r\n" % (len(c), c))
                    conn.send(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server refused before reading everything
            else:
                conn.request(method, path, body=body, headers=h)
            res = conn.getresponse()
            return Response(res.status, res.headers, res.read())
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_json(self, path: str, obj: Any, headers: Optional[dict[str, str]] = None,
                  **kw: Any) -> Response:
        return self.request("POST", path, json.dumps(obj).encode(),
                            {"Content-Type": "application/json", **(headers or {})}, **kw)

    def login(self, username: str, password: str = PASSWORD) -> Response:
        r = self.post_json("/api/login", {"username": username, "password": password})
        if r.status == 200:
            m = re.match(r"markbook_session=([0-9a-f]+);", r.headers["Set-Cookie"])
            assert m, r.headers["Set-Cookie"]
            self.cookie = m[1]
            self.csrf = r.json()["csrf_token"]
        return r

    def upload(self, exercise: str, source: bytes, **kw: Any) -> Response:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"exercise\"\r\n\r\n"
                f"{exercise}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"notebook\"; filename=\"nb.py\"\r\nContent-Type: text/x-python\r\n\r\n"
                ).encode() + source + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if "chunks" in kw:
            n = 256 * 1024
            kw["chunks"] = [body[i:i + n] for i in range(0, len(body), n)]
            return self.request("POST", "/api/submissions", headers=headers, **kw)
        return self.request("POST", "/api/submissions", body, headers, **kw)

    def wait_graded(self, sid: int, timeout: float = EVENT_TIMEOUT) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = self.get(f"/api/submissions/{sid}")
            assert r.status == 200, r.text
            s = r.json()
            if s["status"] in ("done", "error"):
                return s
            time.sleep(0.2)
        raise AssertionError(f"submission {sid} not graded within {timeout} s: {s}")


# Browser connections a test server serves at once. The default (384, for a class and an
# attacker's idle connections on top) costs a thread each, and under the sanitizers every
# start and stop of so many threads takes seconds; only the tests of many connections
# need them all.
TEST_CONNECTIONS = 64


class Server:
    """A running `markbook serve` on a copy of the course, with its own database."""

    def __init__(self, course: Path, db: Path, workers: int = 2,
                 prefix: Optional[list[str]] = None, extra: Optional[list[str]] = None,
                 connections: Optional[int] = TEST_CONNECTIONS,
                 listen: str = "127.0.0.1:{port}"):
        self.course, self.db, self.workers = course, db, workers
        self.connections = connections  # None: the server's own default
        self.listen = listen  # --listen, with {port} the free port found for it
        self.prefix, self.extra = prefix or [], extra or []  # e.g. unshare; --tls FILE
        self.tls: Optional[ssl.SSLContext] = None  # clients speak HTTPS with it
        self.port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.teacher_password: Optional[str] = None
        self.output = ""

    def start(self) -> "Server":
        # Append mode: the server writes through the same open file, and a plain "w+"
        # would let our seek(0) before each read move where its next line lands.
        log = open(self.db.parent / f"serve-{self.port}-{time.monotonic_ns()}.log", "a+")
        self.proc = subprocess.Popen(
            [*self.prefix, markbook(), "serve", "--course", str(self.course), "--db",
             str(self.db), "--listen", self.listen.format(port=self.port), "--workers",
             str(self.workers), *self.connection_args(), *self.extra],
            stdout=log, stderr=subprocess.STDOUT, text=True)
        self.log = log
        _RUNNING.add(self.proc)
        end = time.monotonic() + EVENT_TIMEOUT
        while time.monotonic() < end:
            log.seek(0)
            self.output = log.read()
            if "Students open" in self.output:
                break
            if self.proc.poll() is not None:
                raise AssertionError(f"markbook serve exited:\n{self.output}")
            time.sleep(0.1)
        else:
            self.kill()
            raise AssertionError(f"markbook serve did not start:\n{self.output}")
        self.teacher_password = None
        m = re.search(r"New teacher \"teacher\": password (\S+)", self.output)
        if m:
            self.teacher_password = m[1]
        return self

    def connection_args(self) -> list[str]:
        return [] if self.connections is None else ["--connections", str(self.connections)]

    def client(self) -> Client:
        return Client(self.port, self.tls)

    def add_user(self, name: str, role: str = "student", password: str = PASSWORD) -> None:
        r = subprocess.run([markbook(), "user", "add", "--db", str(self.db), "--role", role,
                            name], input=password + "\n", capture_output=True, text=True)
        assert r.returncode == 0, r.stderr

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=EVENT_TIMEOUT)
        _RUNNING.discard(self.proc)
        self.log.seek(0)
        self.output = self.log.read()
        self.log.close()
        return rc

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.kill(signal.SIGTERM)


def student(server: Server, name: str) -> Client:
    c = server.client()
    r = c.login(name)
    assert r.status == 200, r.text
    return c


def teacher_of(server: Server, password: Optional[str] = None) -> Client:
    """A client logged in as the teacher (the password printed at the first start)."""
    c = server.client()
    r = c.login("teacher", password or server.teacher_password or "")
    assert r.status == 200, r.text
    return c


def exercise(c: Client, slug: str) -> dict:
    """Exercise `slug` as GET /api/exercises lists it for `c`."""
    return next(e for e in c.get("/api/exercises").json() if e["slug"] == slug)


def wait_reloaded(c: Client, after: int, timeout: float = EVENT_TIMEOUT) -> dict:
    """The reload status once more than `after` reloads have ended and none runs."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = c.get("/api/course/reload").json()
        if not st["reloading"] and st["reloads"] > after:
            return st
        time.sleep(0.2)
    raise AssertionError(f"the reload did not end in {timeout} s: {st}")


def reload_course(c: Client) -> dict:
    """Press "Reload the course folder" (the teacher's client `c`) and wait for it."""
    before = c.get("/api/course/reload").json()["reloads"]
    r = c.post_json("/api/course/reload", {})
    assert r.status == 202 and r.json()["reloading"], r.text
    return wait_reloaded(c, before)


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()
