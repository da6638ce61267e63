"""`markbook serve` under valgrind's memcheck, driven through real HTTP
with the mix of requests a class makes: teacher and students log in, list exercises, download
scaffolds, hand in notebooks and wait for their grading, read feedback, gradebooks, exports
and the roster, reload the course, override, regrade an exercise and grade a submission
again, and send the bad requests a server must refuse (400, 401, 403, 404, 405, 413, 415,
422, a wrong CSRF token). The server is stopped with SIGTERM and valgrind's leak summary
read.

It runs twice, ROUNDS and 3 * ROUNDS rounds of the same mix, each on a fresh copy of the
course and a fresh database. A leak that grows with requests shows as more "definitely
lost" or "indirectly lost" bytes or blocks in the bigger run; that fails the test, and so
does any memory error valgrind reports (invalid reads or writes, uninitialised values,
bad frees). tools/valgrind.supp holds the only suppressions, each with its reason. The
sandboxes are firejail processes of their own and are not traced.

About a minute with ROUNDS=1. `make valgrind` runs this test alone; VALGRIND_ROUNDS=N runs
more rounds. To find where an uninitialised value came from, add --track-origins=yes to
VALGRIND_ARGS (slower)."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server_client import PASSWORD, ROOT, Client, Response, Server, corpus, make_course, markbook

VALGRIND = "/usr/bin/valgrind"
SUPPRESSIONS = ROOT / "tools" / "valgrind.supp"
VALGRIND_ARGS = ["--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                 "--errors-for-leak-kinds=none", "--num-callers=40",
                 f"--suppressions={SUPPRESSIONS}"]
ROUNDS = int(os.environ.get("VALGRIND_ROUNDS", "1"))
NEW_PASSWORD = "a password of my own"

# make test-asan runs the suite against ./markbook-asan, which valgrind cannot run; it has
# LeakSanitizer instead.
pytestmark = pytest.mark.skipif(os.environ.get("MARKBOOK_BUILD", "build") != "build",
                                reason="valgrind checks the plain build")

LOST = re.compile(r"(definitely|indirectly|possibly) lost: ([\d,]+) bytes in ([\d,]+) blocks")
ERRORS = re.compile(r"ERROR SUMMARY: (\d+) errors")


@dataclass
class Memcheck:
    """What valgrind said about one run: bytes and blocks lost by kind, memory errors, and
    every log it wrote (the server's and those of children that failed before exec)."""
    lost: dict[str, tuple[int, int]] = field(default_factory=dict)
    errors: int = 0
    logs: str = ""
    requests: int = 0

    def line(self) -> str:
        kinds = ", ".join(f"{k} {b} bytes in {n} blocks" for k, (b, n) in self.lost.items())
        return f"{self.requests} requests: {kinds}; {self.errors} errors"


class Mix:
    """The rounds of requests, counting them. Every answer is checked, so a round that
    stopped doing what it means to (a login refused, a route moved) fails loudly rather
    than measuring less."""

    def __init__(self, srv: Server):
        self.srv = srv
        self.requests = 0

    def expect(self, c: Client, status: int, method: str, path: str, body: bytes | None = None,
               headers: dict[str, str] | None = None, **kw) -> Response:
        r = c.request(method, path, body, headers, **kw)
        self.requests += 1
        assert r.status == status, f"{method} {path}: {r.status} {r.text[:300]}"
        return r

    def json(self, c: Client, status: int, path: str, obj, **kw) -> Response:
        return self.expect(c, status, "POST", path, json.dumps(obj).encode(),
                           {"Content-Type": "application/json"}, **kw)

    def login(self, name: str, password: str) -> Client:
        c = self.srv.client()
        r = c.login(name, password)
        self.requests += 1
        assert r.status == 200, f"login {name}: {r.status} {r.text}"
        return c

    def wait_graded(self, c: Client, sid: int) -> dict:
        s = c.wait_graded(sid, timeout=120)
        self.requests += 1  # and its polls, uncounted
        assert s["status"] == "done", s
        return s

    def anonymous(self, r: int) -> None:
        a = self.srv.client()
        self.expect(a, 200, "GET", "/api/health")
        self.expect(a, 200, "GET", "/")
        self.expect(a, 200, "GET", "/app.js")
        self.expect(a, 401, "GET", "/api/me")
        self.expect(a, 401, "GET", "/api/gradebook")
        self.expect(a, 401, "GET", "/exercises/cp1-functions.py")
        self.expect(a, 405, "GET", "/api/login")
        self.expect(a, 415, "POST", "/api/login", b"username=ada", {"Content-Type": "text/plain"})
        self.expect(a, 400, "POST", "/api/login", b"{\"username\": ", {"Content-Type": "application/json"})
        self.expect(a, 413, "POST", "/api/login", b"{" + b" " * 5000 + b"}",
                    {"Content-Type": "application/json"})
        # One wrong password per round and a new name each time: the throttle allows 20
        # failures per address, and a 429 would end the logins of the rounds after.
        self.json(a, 401, "/api/login", {"username": f"nobody{r}", "password": "wrong"})

    def teacher(self, r: int, sid: int) -> None:
        t = self.login("teacher", self.srv.teacher_password)
        for path in ("/api/me", "/api/exercises", "/api/gradebook", "/api/gradebook.csv",
                     "/api/dashboard", "/api/health", "/api/roster", "/api/submissions",
                     "/api/submissions?student=ada&exercise=cp1-functions",
                     f"/api/submissions/{sid}", f"/api/submissions/{sid}/source",
                     "/api/course/reload", "/api/backup",
                     *(f"/api/export.csv?format={f}" for f in ("wide", "long", "canvas", "moodle"))):
            self.expect(t, 200, "GET", path)
        self.expect(t, 400, "GET", "/api/export.csv?format=excel")
        self.expect(t, 404, "GET", "/api/nothing")
        self.expect(t, 404, "GET", "/api/submissions/999999")
        self.expect(t, 405, "DELETE", "/api/gradebook")
        self.expect(t, 405, "PUT", "/api/roster", b"x", {"Content-Type": "text/csv"})
        self.expect(t, 403, "POST", "/api/roster/reset", b'{"username": "ada"}',
                    {"Content-Type": "application/json", "X-CSRF-Token": "0" * 64}, csrf=False)
        # The roster: a new student each round (Canvas's export, BOM and all), a file with
        # errors, one too large, and a one-time password reset.
        new = f"new{r}"
        canvas = ('\ufeff"Student","ID","SIS User ID","SIS Login ID","Section"\n'
                  '"    Points Possible",,,,\n'
                  f'"Newton, Nia",{100 + r},S{r},{new},P1\n'
                  '"Lovelace, Ada",1,S0,ada,P1\n').encode()
        body = self.expect(t, 200, "POST", "/api/roster", canvas,
                           {"Content-Type": "text/csv"}).json()
        assert [s["username"] for s in body["new_students"]] == [new], body
        bad = b"username;name;email\nbad name;X;\nok;Ok;not-an-email\n"
        body = self.expect(t, 422, "POST", "/api/roster", bad, {"Content-Type": "text/csv"}).json()
        assert body["error_count"] == 2, body
        big = b"username\n" + b"x\n" * (512 * 1024 + 1)
        self.expect(t, 413, "POST", "/api/roster", None, {"Content-Type": "text/csv"},
                    chunks=[big[i:i + 65536] for i in range(0, len(big), 65536)])
        once = self.json(t, 200, "/api/roster/reset", {"username": new}).json()["one_time_password"]
        self.json(t, 404, "/api/roster/reset", {"username": "nobody"})
        # Overrides: set, refuse, remove.
        self.json(t, 200, f"/api/submissions/{sid}/override", {"score": 7, "comment": "Seen."})
        self.json(t, 422, f"/api/submissions/{sid}/override", {"score": -1, "comment": "x"})
        self.json(t, 422, f"/api/submissions/{sid}/override", {"score": 3, "comment": ""})
        self.json(t, 200, f"/api/submissions/{sid}/override", {"score": None, "comment": "Undone."})
        # A regrade, looked at and discarded; a reload of the course folder, waited for.
        self.json(t, 202, "/api/exercises/cp1-functions/regrade", {"all": True})
        self.expect(t, 200, "GET", "/api/exercises/cp1-functions/regrade")
        self.json(t, 200, "/api/exercises/cp1-functions/regrade/discard", {})
        self.json(t, 404, "/api/exercises/nothing/regrade", {})
        # One submission graded again, waited for.
        self.json(t, 202, f"/api/submissions/{sid}/regrade", {})
        self.expect(t, 400, "POST", f"/api/submissions/{sid}/regrade", b"[]",
                    {"Content-Type": "application/json"})
        self.wait_graded(t, sid)
        before = self.expect(t, 200, "GET", "/api/course/reload").json()["reloads"]
        self.json(t, 202, "/api/course/reload", {})
        while True:
            st = self.expect(t, 200, "GET", "/api/course/reload").json()
            if not st["reloading"] and st["reloads"] > before:
                break
            time.sleep(0.2)
        self.json(t, 200, "/api/logout", {})
        self.expect(t, 401, "GET", "/api/me")
        # The new student's first login: only the password page until they choose one.
        n = self.login(new, once)
        self.expect(n, 403, "GET", "/api/exercises")
        self.json(n, 422, "/api/password", {"password": "short"})
        self.json(n, 200, "/api/password", {"password": NEW_PASSWORD})
        self.expect(n, 200, "GET", "/api/exercises")
        self.json(n, 200, "/api/logout", {})

    def students(self, bob_before: int) -> tuple[int, int]:
        """ada hands in with a form, bob with JSON; returns their submissions. Neither sees
        the other's (bob_before: bob's of the last round, or 0)."""
        ada = self.login("ada", PASSWORD)
        for path in ("/api/me", "/api/exercises", "/exercises/cp1-functions.py",
                     "/exercises/cp1-always/primes.txt", "/api/submissions"):
            self.expect(ada, 200, "GET", path)
        self.expect(ada, 404, "GET", "/exercises/nothing.py")
        self.expect(ada, 404, "GET", "/exercises/../hidden/cp1-functions/test_cp1.py")
        self.expect(ada, 403, "GET", "/api/gradebook")
        self.expect(ada, 403, "GET", "/api/roster")
        r1 = ada.upload("cp1-functions", corpus("correct.py"))
        self.requests += 1
        assert r1.status == 202, r1.text
        sid = r1.json()["id"]
        r2 = ada.upload("cp1-functions", b"\xff\xfe not utf-8")
        r3 = ada.upload("nothing", b"x = 1\n")
        self.requests += 2
        assert (r2.status, r3.status) == (422, 404), (r2.text, r3.text)
        self.json(ada, 400, "/api/submissions", {"exercise": "cp1-functions"})
        self.json(ada, 413, "/api/submissions", {"exercise": "cp1-functions",
                                                 "source": "#" * (1024 * 1024 + 1)})
        self.expect(ada, 415, "POST", "/api/submissions", b"x", {"Content-Type": "text/plain"})
        s = self.wait_graded(ada, sid)
        assert s["score"] == 10, s
        self.expect(ada, 200, "GET", f"/api/submissions/{sid}/source")
        self.expect(ada, 200, "GET", "/api/submissions?exercise=cp1-functions")
        if bob_before:
            self.expect(ada, 404, "GET", f"/api/submissions/{bob_before}")
        self.json(ada, 403, "/api/password", {"password": NEW_PASSWORD, "current": "wrong"})
        self.json(ada, 200, "/api/logout", {})

        bob = self.login("bob", PASSWORD)
        r4 = bob.post_json("/api/submissions", {"exercise": "cp1-past",
                                                "source": corpus("partly_right.py").decode()})
        self.requests += 1
        assert r4.status == 202, r4.text
        bob_sid = r4.json()["id"]
        s = self.wait_graded(bob, bob_sid)
        assert s["score"] == 5 and s["late"], s
        self.expect(bob, 404, "GET", f"/api/submissions/{sid}")
        self.json(bob, 200, "/api/logout", {})
        return sid, bob_sid

    def run(self, rounds: int) -> None:
        bob_sid = 0
        for r in range(rounds):
            self.anonymous(r)
            sid, bob_sid = self.students(bob_sid)
            self.teacher(r, sid)


def memcheck_run(tmp: Path, rounds: int) -> Memcheck:
    """Serve a fresh course and database under memcheck, drive `rounds` rounds, stop it
    with SIGTERM and read what valgrind wrote."""
    logs = tmp / "valgrind"
    logs.mkdir(parents=True)
    srv = Server(make_course(tmp / "course"), tmp / "markbook.db", workers=2,
                 prefix=[VALGRIND, *VALGRIND_ARGS, f"--log-file={logs}/%p.log"])
    mix = Mix(srv)
    srv.start()
    try:
        for name in ("ada", "bob"):
            srv.add_user(name)
        mix.run(rounds)
    finally:
        srv.stop()
    m = Memcheck(requests=mix.requests)
    for f in sorted(logs.iterdir()):
        text = f.read_text(errors="replace")
        m.logs += f"== {f.name}\n{text}\n"
        m.errors += sum(int(n) for n in ERRORS.findall(text))
        if "HEAP SUMMARY" in text:
            assert not m.lost, "two logs with a heap summary"
            m.lost = {k: (int(b.replace(",", "")), int(n.replace(",", "")))
                      for k, b, n in LOST.findall(text)}
            if "All heap blocks were freed" in text:
                m.lost = {k: (0, 0) for k in ("definitely", "indirectly", "possibly")}
    assert m.lost, f"valgrind wrote no leak summary (did the server stop?):\n{srv.output}\n{m.logs}"
    return m


def test_server_under_valgrind_leaks_nothing_per_request(tmp_path):
    assert os.access(markbook(), os.X_OK), f"no markbook binary at {markbook()} (run make)"
    assert os.access(VALGRIND, os.X_OK), "no valgrind: run tools/install-deps.sh"
    small = memcheck_run(tmp_path / "small", ROUNDS)
    big = memcheck_run(tmp_path / "big", 3 * ROUNDS)
    print(f"\nvalgrind, {ROUNDS} rounds: {small.line()}")
    print(f"valgrind, {3 * ROUNDS} rounds: {big.line()}")
    assert small.errors == 0 and big.errors == 0, \
        f"valgrind found memory errors:\n{small.logs}\n{big.logs}"
    for kind in ("definitely", "indirectly"):
        grew = [i for i in range(2) if big.lost[kind][i] > small.lost[kind][i]]
        assert not grew, (f"{kind} lost grows with requests: {small.line()} -> {big.line()}\n"
                          f"{big.logs}")
