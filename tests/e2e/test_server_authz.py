"""The authorization matrix of `markbook serve`: every endpoint, called as anonymous, student
A, student B and the teacher, must answer exactly the status this table says. Student A owns
a submission; B must not reach it.

To add an endpoint, add a Row to ROWS (and to MUTATING if it changes anything): the path may
name {sub}, A's submission id, and {slug}, a published exercise. A POST row's body is JSON
unless `body` is bytes; a row whose `fresh` is True gets a freshly logged-in client for every
call (logout ends the session it is called with).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pytest

from server_client import Client, Response, Server, student

pytest_plugins = ["conftest_server"]

ROLES = ("anon", "a", "b", "teacher")
NOTEBOOK = "import marimo\napp = marimo.App()\n"


@dataclass
class Row:
    method: str
    path: str
    expect: dict[str, int]  # role -> status
    body: Any = None
    fresh: bool = False
    # Extra checks of a 2xx answer: check(role, response, ctx) raises AssertionError.
    check: Optional[Callable[[str, Response, dict], None]] = None
    note: str = ""

    def id(self) -> str:
        return f"{self.method} {self.path}"


def everyone(status: int) -> dict[str, int]:
    return {"anon": status, "a": status, "b": status, "teacher": status}


def session(status: int, anon: int = 401) -> dict[str, int]:
    return {"anon": anon, "a": status, "b": status, "teacher": status}


def teacher_only(status: int = 200) -> dict[str, int]:
    return {"anon": 401, "a": 403, "b": 403, "teacher": status}


def own_only(role: str, r: Response, ctx: dict) -> None:
    """A student's lists name only that student; B never sees A's submission."""
    rows = r.json()
    if role in ("a", "b"):
        assert {s["student"] for s in rows} <= {ctx["names"][role]}, rows
    if role == "b":
        assert ctx["sub"] not in [s["id"] for s in rows]
    if role == "teacher":
        assert ctx["sub"] in [s["id"] for s in rows]


def no_teacher_fields(role: str, r: Response, ctx: dict) -> None:
    doc = r.json()
    if role == "a":
        assert doc["student"] == ctx["names"]["a"]
        for key in ("flags", "output", "attempts"):
            assert key not in doc, key
        assert all("detail" not in t and "outcome" not in t for t in doc["tests"])
    if role == "teacher":
        assert "flags" in doc and "output" in doc


def queued_once(role: str, r: Response, ctx: dict) -> None:
    """Graded again: A's submission waits in the queue, and asking again is refused."""
    doc = r.json()
    assert doc["id"] == ctx["sub"] and doc["status"] in ("queued", "grading"), doc
    again = ctx["clients"]["teacher"].post_json(f"/api/submissions/{ctx['sub']}/regrade", {})
    assert again.status == 409 and "already waiting" in again.json()["error"], again.text


def health_secret(role: str, r: Response, ctx: dict) -> None:
    assert ("sandbox_message" in r.json()) == (role == "teacher"), (role, r.json())


ROWS: list[Row] = [
    Row("GET", "/api/health", everyone(200), check=health_secret),
    Row("POST", "/api/login", everyone(401), body={"username": "nobody", "password": "x"}),
    Row("GET", "/api/login", everyone(405)),
    Row("GET", "/api/me", session(200)),
    Row("POST", "/api/me", session(405)),
    Row("POST", "/api/logout", session(200), body={}, fresh=True),
    Row("GET", "/api/logout", session(405)),
    Row("GET", "/api/exercises", session(200)),
    Row("POST", "/api/exercises", session(405), body={}),
    Row("GET", "/exercises/{slug}.py", session(200)),
    Row("GET", "/exercises/cp1-always/primes.txt", session(200)),
    Row("GET", "/exercises/broken.py", session(404), note="an exercise that did not load"),
    Row("GET", "/exercises/nosuch.py", session(404)),
    Row("GET", "/exercises/cp1-always/exercise.json", session(404)),
    Row("POST", "/exercises/{slug}.py", session(405), body={}),
    Row("GET", "/api/submissions", session(200), check=own_only),
    Row("GET", "/api/submissions?student=ada", session(200), check=own_only),
    Row("GET", "/api/submissions?exercise={slug}", session(200), check=own_only),
    Row("POST", "/api/submissions", session(202),
        body={"exercise": "{slug}", "source": NOTEBOOK}),
    Row("PUT", "/api/submissions", session(405), body={}),
    Row("DELETE", "/api/submissions", session(405), body={}),
    Row("GET", "/api/submissions/{sub}", {"anon": 401, "a": 200, "b": 404, "teacher": 200},
        check=no_teacher_fields),
    Row("GET", "/api/submissions/999999", session(404)),
    Row("GET", "/api/submissions/-1", session(404)),
    Row("GET", "/api/submissions/{sub}x", session(404)),
    Row("DELETE", "/api/submissions/{sub}", session(405), body={}),
    Row("POST", "/api/submissions/{sub}", session(405), body={}),
    Row("POST", "/api/submissions/{sub}/override", teacher_only(),
        body={"score": 5, "comment": "Checked by hand."}),
    Row("POST", "/api/submissions/999999/override", teacher_only(404),
        body={"score": 5, "comment": "Checked by hand."}),
    Row("GET", "/api/submissions/{sub}/override", session(405)),
    Row("POST", "/api/submissions/{sub}/regrade", teacher_only(202), body={},
        check=queued_once),
    Row("POST", "/api/submissions/999999/regrade", teacher_only(404), body={}),
    Row("GET", "/api/submissions/{sub}/regrade", session(405)),
    Row("GET", "/api/gradebook", teacher_only()),
    Row("GET", "/api/gradebook.csv", teacher_only()),
    Row("POST", "/api/gradebook", {"anon": 401, "a": 405, "b": 405, "teacher": 405},
        body={}),
    Row("GET", "/api/roster", teacher_only()),
    Row("POST", "/api/roster", teacher_only(), body=b"username\nmx_matrix\n"),
    Row("DELETE", "/api/roster", session(405), body={}),
    Row("POST", "/api/roster/reset", teacher_only(404), body={"username": "mx_nobody"}),
    Row("GET", "/api/roster/reset", session(405)),
    Row("POST", "/api/password", session(422), body={"password": "short"},
        note="refused as too short, so nobody's password changes"),
    Row("GET", "/api/password", session(405)),
    Row("GET", "/api/export.csv?format=long", teacher_only()),
    Row("GET", "/api/export.csv?format=nosuch", teacher_only(400)),
    Row("GET", "/api/backup", teacher_only()),
    Row("POST", "/api/backup", session(405), body={}),
    Row("GET", "/api/course/reload", teacher_only()),
    Row("POST", "/api/course/reload", teacher_only(202), body={}),
    Row("DELETE", "/api/course/reload", session(405), body={}),
    Row("GET", "/api/submissions/{sub}/source", {"anon": 401, "a": 200, "b": 404,
                                                 "teacher": 200}),
    Row("POST", "/api/submissions/{sub}/source", session(405), body={}),
    Row("GET", "/api/dashboard", teacher_only()),
    Row("POST", "/api/dashboard", session(405), body={}),
    Row("GET", "/api/exercises/{slug}/regrade", teacher_only(404), note="none yet"),
    Row("GET", "/api/exercises/nosuch/regrade", teacher_only(404)),
    Row("POST", "/api/exercises/{slug}/regrade", teacher_only(409), body={},
        note="nothing is stale"),
    Row("POST", "/api/exercises/{slug}/regrade/apply", teacher_only(409), body={}),
    Row("POST", "/api/exercises/{slug}/regrade/discard", teacher_only(409), body={}),
    Row("GET", "/practice/{slug}/index.html", session(404), note="no practice export"),
    Row("GET", "/api/nosuch", session(404)),
    Row("GET", "/", everyone(200)),
    Row("GET", "/index.html", everyone(200)),
    Row("GET", "/nosuch.html", everyone(404)),
]

# Every endpoint that changes something, with a body that would succeed: each must refuse
# a logged-in caller without the session's CSRF token (test_server_attacks.py and below).
MUTATING: list[tuple[str, str, Any]] = [
    ("POST", "/api/logout", {}),
    ("POST", "/api/submissions", {"exercise": "{slug}", "source": NOTEBOOK}),
    ("POST", "/api/submissions/{sub}/override", {"score": 5, "comment": "Checked by hand."}),
    ("POST", "/api/submissions/{sub}/regrade", {}),
    ("POST", "/api/roster", b"username\nmx_csrf\n"),
    ("POST", "/api/roster/reset", {"username": "bob"}),
    ("POST", "/api/password", {"password": "a password of mine"}),
    ("POST", "/api/exercises/{slug}/regrade", {"all": True}),
    ("POST", "/api/exercises/{slug}/regrade/apply", {}),
    ("POST", "/api/exercises/{slug}/regrade/discard", {}),
]


@pytest.fixture(scope="module")
def ctx(server: Server) -> dict:
    """Logged-in clients for A (ada), B (bob) and the teacher, and one submission of A's."""
    clients = {"anon": server.client(), "a": student(server, "ada"),
               "b": student(server, "bob")}
    t = server.client()
    assert t.login("teacher", server.teacher_password).status == 200
    clients["teacher"] = t
    r = clients["a"].post_json("/api/submissions", {"exercise": "cp1-functions",
                                                    "source": NOTEBOOK})
    assert r.status == 202, r.text
    sub = r.json()["id"]
    clients["a"].wait_graded(sub)
    return {"server": server, "clients": clients, "sub": sub, "slug": "cp1-functions",
            "names": {"a": "ada", "b": "bob", "teacher": "teacher"}}


def fill(text: str, ctx: dict) -> str:
    return text.replace("{sub}", str(ctx["sub"])).replace("{slug}", ctx["slug"])


def client_for(role: str, row: Row, ctx: dict) -> Client:
    if not row.fresh or role == "anon":
        return ctx["clients"][role]
    c = ctx["server"].client()
    if role == "teacher":
        assert c.login("teacher", ctx["server"].teacher_password).status == 200
    else:
        assert c.login(ctx["names"][role]).status == 200
    return c


def call(c: Client, method: str, path: str, body: Any, ctx: dict, **kw: Any) -> Response:
    if body is None:
        return c.request(method, path, **kw)
    if isinstance(body, bytes):
        return c.request(method, path, body, **kw)
    data = json.loads(fill(json.dumps(body), ctx))
    return c.request(method, path, json.dumps(data).encode(),
                     {"Content-Type": "application/json", **kw.pop("headers", {})}, **kw)


@pytest.mark.parametrize("row", ROWS, ids=[r.id() for r in ROWS])
def test_server_authorization_matrix(ctx, row):
    """Each role gets exactly the status the table says, and a 2xx passes the row's check."""
    wrong = []
    for role in ROLES:
        r = call(client_for(role, row, ctx), row.method, fill(row.path, ctx), row.body, ctx)
        if r.status != row.expect[role]:
            wrong.append(f"{role}: {r.status} (want {row.expect[role]}) {r.text[:200]}")
        elif row.check and 200 <= r.status < 300 and row.method != "HEAD":
            row.check(role, r, ctx)
        if r.status >= 400 and row.method != "HEAD" and r.body:
            assert "error" in r.json(), (role, r.text[:200])  # always a sentence
    assert not wrong, "\n".join(wrong)


def test_server_every_api_route_is_in_the_matrix():
    """A route the API table of CONTRIBUTING.md names but ROWS does not is an untested one."""
    from server_client import ROOT
    import re
    table = (ROOT / "CONTRIBUTING.md").read_text()
    documented = set()
    for line in table.splitlines():
        if line.startswith("| `") and "/api/" in line or line.startswith("| `GET /exercises"):
            for path in re.findall(r"`(?:GET|POST|PUT|DELETE|PATCH) (/[^`\[ ?]+)", line):
                documented.add(path)
            for path in re.findall(r", `(/[^`\[ ?]+)`", line):
                documented.add(path)
    covered = {re.sub(r"\?.*", "", r.path) for r in ROWS}
    norm = {p.replace("<id>", "{sub}").replace("<slug>", "{slug}") for p in documented}
    missing = sorted(p for p in norm if "<" not in p and p not in covered)
    assert not missing, f"add rows for: {missing}"


def state(ctx: dict) -> list:
    """What a refused mutation must leave alone: which submissions exist, their overrides."""
    rows = ctx["clients"]["teacher"].get("/api/submissions").json()
    return [(s["id"], s.get("override")) for s in rows]


@pytest.mark.parametrize("method,path,body", MUTATING, ids=[f"{m} {p}" for m, p, _ in MUTATING])
@pytest.mark.parametrize("role", ["a", "teacher"])
def test_server_mutating_endpoint_refuses_a_missing_or_foreign_csrf_token(ctx, role, method,
                                                                         path, body):
    """No token, a made-up one, another session's, or the token in the query string: 403,
    and nothing changes."""
    server = ctx["server"]
    c = server.client()
    if role == "teacher":
        assert c.login("teacher", server.teacher_password).status == 200
    else:
        assert c.login("ada").status == 200
    other = ctx["clients"]["b"]
    before = state(ctx)
    attempts = [
        {"csrf": False},
        {"csrf": False, "headers": {"X-CSRF-Token": "f" * 64}},
        {"csrf": False, "headers": {"X-CSRF-Token": ""}},
        {"csrf": False, "headers": {"X-CSRF-Token": other.csrf}},
        {"csrf": False, "headers": {"X-CSRF-Token": c.csrf[:-1]}},
        {"csrf": False, "headers": {"X-CSRF-Token": c.csrf + "0"}},
        {"csrf": False, "headers": {"X-Csrf-Token": c.csrf.upper()}},
    ]
    for kw in attempts:
        r = call(c, method, fill(path, ctx) + f"?csrf_token={c.csrf}", body, ctx, **kw)
        assert r.status == 403, (kw, r.status, r.text)
        assert "X-CSRF-Token" in r.json()["error"]
    # A form post (what a cross-site page can send without a preflight) is refused too.
    r = c.request(method, fill(path, ctx), f"csrf_token={c.csrf}".encode(),
                  {"Content-Type": "application/x-www-form-urlencoded"}, csrf=False)
    assert r.status == 403
    assert c.get("/api/me").status == 200, "the session must still be alive"
    assert state(ctx) == before
