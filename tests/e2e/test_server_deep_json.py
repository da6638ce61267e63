"""Deeply nested JSON against every endpoint of `markbook serve` that takes a JSON body, as
anonymous, two students and the teacher. cJSON parses by recursion, and 1,000 nested `[` in
one anonymous login once overflowed a web thread's stack and killed the server. The endpoints
come from the authorization matrix (test_server_authz.py): a row added there for a new
endpoint is tried here too. An honest student's upload is graded while it happens."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest

from server_client import ROOT, Client, corpus, student
from test_server_authz import ROLES, ROWS, Row, client_for, fill

pytest_plugins = ["conftest_server"]

DEPTH_MAX = 64
LOGIN_BODY_MAX = 4096  # the smallest body limit: 1,000 levels of {"a": do not fit
SENTENCE = f"nested more than {DEPTH_MAX} levels deep"

# Every row of the matrix that sends a JSON body (a dict): the endpoints a client can send
# JSON to, whichever of them read it.
JSON_ROWS = [r for r in ROWS if isinstance(r.body, dict)]


def nested(levels: int, kind: str) -> str:
    """`levels` arrays or objects inside each other."""
    if kind == "[":
        return "[" * levels + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


def with_nest(body: dict, levels: int, ctx: dict) -> bytes:
    """The row's own body with one more field nested `levels` deep, so the whole document
    is `levels` + 1 deep."""
    text = fill(json.dumps(body), ctx)
    inner = nested(levels, "[")
    return (text[:-1] + (", " if text != "{}" else "") + f'"nest": {inner}}}').encode()


@pytest.fixture(scope="module")
def ctx(server) -> dict:
    clients = {"anon": server.client(), "a": student(server, "ada"),
               "b": student(server, "bob")}
    t = server.client()
    assert t.login("teacher", server.teacher_password).status == 200
    clients["teacher"] = t
    r = clients["a"].post_json("/api/submissions", {"exercise": "cp1-functions",
                                                    "source": "x = 1\n"})
    assert r.status == 202, r.text
    sub = r.json()["id"]
    clients["a"].wait_graded(sub)
    return {"server": server, "clients": clients, "sub": sub, "slug": "cp1-functions",
            "names": {"a": "ada", "b": "bob", "teacher": "teacher"}}


def send(c: Client, row: Row, body: bytes, ctx: dict):
    return c.request(row.method, fill(row.path, ctx), body,
                     {"Content-Type": "application/json"})


def refused_as_deep(r) -> bool:
    return r.status == 400 and SENTENCE in r.json().get("error", "")


def test_server_every_json_parse_goes_through_the_depth_check():
    """The one place: no C file but json.c hands text to cJSON's parser, so a new endpoint
    (or a new file markbook reads) cannot skip the bound."""
    offenders = []
    for path in sorted((ROOT / "appliance").glob("*.c")):
        if path.name == "json.c":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bcJSON_Parse\w*\s*\(", line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert not offenders, "parse with json_parse() or web_parse_json():\n" + "\n".join(offenders)


def test_server_deep_json_on_every_json_endpoint_is_a_sentence_and_honest_work_goes_on(ctx):
    """1,000 and 65 levels of `[` and of `{"a":` on every endpoint, as every role: a 400 with
    the sentence, or the endpoint's own answer when it never reads the body; never a crash.
    Meanwhile an honest student hands in a notebook, and it is graded."""
    server = ctx["server"]
    pid = server.proc.pid
    honest = server.client()
    server.add_user("honest")
    assert honest.login("honest").status == 200
    result: dict[str, Any] = {}

    def hand_in() -> None:
        try:
            r = honest.upload("cp1-functions", corpus("correct.py"))
            result["upload"] = r.status
            result["graded"] = honest.wait_graded(r.json()["id"])
        except Exception as e:  # noqa: BLE001 - reported below
            result["error"] = repr(e)

    t = threading.Thread(target=hand_in, daemon=True)
    t.start()
    readers: set[str] = set()
    wrong = []
    bodies = [nested(1000, "[").encode(), nested(1000, "{").encode(),
              nested(DEPTH_MAX + 1, "[").encode(), nested(DEPTH_MAX + 1, "{").encode()]
    for row in JSON_ROWS:
        for role in ROLES:
            answers = []
            for body in [*bodies, with_nest(row.body, DEPTH_MAX, ctx)]:
                r = send(client_for(role, row, ctx), row, body, ctx)
                if r.status == 413 and len(body) > LOGIN_BODY_MAX:
                    continue  # refused unread: larger than what this endpoint takes
                answers.append(r)
                if r.status >= 500 or (r.status >= 400 and "error" not in r.json()):
                    wrong.append(f"{row.id()} as {role}: {r.status} {r.text[:200]}")
            deep = [refused_as_deep(r) for r in answers]
            if any(deep):
                readers.add(row.id())
                # An endpoint that reads the body refuses every text that is too deep.
                if not all(deep):
                    wrong.append(f"{row.id()} as {role}: refused only some: "
                                 f"{[(r.status, r.text[:80]) for r in answers]}")
            elif any(r.status != row.expect[role] for r in answers):
                wrong.append(f"{row.id()} as {role}: neither refused as too deep nor its "
                             f"own answer {row.expect[role]}: "
                             f"{[(r.status, r.text[:80]) for r in answers]}")
    assert not wrong, "\n".join(wrong)
    # The test can fail: these read JSON, and each refused the deep bodies.
    for must in ("POST /api/login", "POST /api/submissions", "POST /api/password",
                 "POST /api/roster/reset", "POST /api/submissions/{sub}/override",
                 "POST /api/submissions/{sub}/regrade", "POST /api/exercises/{slug}/regrade"):
        assert must in readers, (must, sorted(readers))
    assert server.proc.poll() is None and server.proc.pid == pid, "the server died"
    assert server.client().get("/api/health").status == 200
    t.join(timeout=300)
    assert "error" not in result, result
    assert result["upload"] == 202 and result["graded"]["score"] == 10, result


def test_server_64_levels_are_still_accepted(ctx):
    """The bound refuses only what is deeper than 64: a login and a JSON upload with an
    extra field nested to 64 levels in all are answered as without it; on every other
    endpoint 64 levels are never refused as too deep."""
    server = ctx["server"]
    c = server.client()
    body = with_nest({"username": "eve", "password": "a student password"}, DEPTH_MAX - 1,
                     ctx)
    assert json.loads(body) and body.count(b"[") == DEPTH_MAX - 1
    r = c.request("POST", "/api/login", body, {"Content-Type": "application/json"})
    assert r.status == 200, r.text
    c.cookie = re.match(r"markbook_session=([0-9a-f]+);", r.headers["Set-Cookie"])[1]
    c.csrf = r.json()["csrf_token"]
    body = with_nest({"exercise": "cp1-functions", "source": "x = 1\n"}, DEPTH_MAX - 1, ctx)
    r = c.request("POST", "/api/submissions", body, {"Content-Type": "application/json"})
    assert r.status == 202, r.text
    too_deep = with_nest({"exercise": "cp1-functions", "source": "x = 1\n"}, DEPTH_MAX, ctx)
    r = c.request("POST", "/api/submissions", too_deep, {"Content-Type": "application/json"})
    assert refused_as_deep(r), r.text
    for row in JSON_ROWS:
        for role in ROLES:
            r = send(client_for(role, row, ctx), row, with_nest(row.body, DEPTH_MAX - 1, ctx),
                     ctx)
            assert not refused_as_deep(r) and r.status < 500, (row.id(), role, r.text)
