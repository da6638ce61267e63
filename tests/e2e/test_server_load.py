"""Many and slow connections against the real `markbook serve`, from several loopback
addresses (127.0.0.2, 127.0.0.3, ... all reach the server on Linux): a whole body must
arrive within its deadline (10 s for a login), one address holds at most 16 connections at
once (the teacher's too), and the one over is refused at once. Honest requests from another
address are answered while the attack is on.

No assertion here times the server against the clock of a fast machine: "at once" is
checked as "before the slow connections' deadline", an order of events that only the bug
reverses, and the deadline itself only from below (a cut never comes early)."""

from __future__ import annotations

import re
import select
import socket
import time
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from server_client import Server, corpus, make_course, student

SPREAD_TESTS = True  # each test starts its own server

PER_ADDRESS = 16        # WEB_ADDRESS_CONNS
BODY_DEADLINE_S = 10    # WEB_BODY_SMALL_S: a login's body
REQUEST_GRACE_S = 1     # WEB_REQUEST_GRACE_MS: a request that never comes, over the limit
IP_BIND_ADDRESS_NO_PORT = 24  # Linux: choose the port at connect(), not at bind()


def status_of(reply: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    return int(m[1]) if m else 0


def fresh_server(tmp_path: Path, *users: str, **kw: Any) -> Server:
    srv = Server(make_course(tmp_path / "course"), tmp_path / "markbook.db",
                 connections=None, **kw).start()  # 384 threads, as a teacher runs it
    for name in users:
        srv.add_user(name)
    return srv


def connect_from(addr: str, port: int) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    s.bind((addr, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


class Conn:
    def __init__(self, sock: socket.socket, addr: str):
        self.sock, self.addr = sock, addr
        self.opened = time.monotonic()
        self.reply = b""
        self.closed_at: Optional[float] = None  # when the server closed it
        self.answered_at: Optional[float] = None

    @property
    def status(self) -> int:
        return status_of(self.reply)


class Attack:
    """`n` connections spread over `addrs`, each sending `head` at once and then `trickle`
    (one byte) every `every` seconds for as long as the server keeps it open."""

    def __init__(self, port: int, addrs: list[str], n: int, head: bytes,
                 trickle: bytes = b" ", every: float = 5.0):
        self.port, self.addrs, self.n, self.head = port, addrs, n, head
        self.trickle, self.every = trickle, every
        self.conns: list[Conn] = []
        self.last_trickle = 0.0

    def open(self) -> "Attack":
        for i in range(self.n):
            addr = self.addrs[i % len(self.addrs)]
            s = connect_from(addr, self.port)
            s.sendall(self.head)
            s.setblocking(False)
            self.conns.append(Conn(s, addr))
        self.last_trickle = time.monotonic()
        return self

    def open_ones(self) -> list[Conn]:
        return [c for c in self.conns if c.closed_at is None]

    def pump(self, until: Callable[[], bool], timeout: float) -> bool:
        """Read what the server sends and keep trickling, until `until()` or `timeout`
        seconds; returns whether `until()` came true."""
        end = time.monotonic() + timeout
        while True:
            if until():
                return True
            now = time.monotonic()
            if now >= end:
                return False
            if now - self.last_trickle >= self.every:
                for c in self.open_ones():
                    if not c.reply:
                        try:
                            c.sock.send(self.trickle)
                        except OSError:
                            pass
                self.last_trickle = now
            p = select.poll()
            by_fd = {}
            for c in self.open_ones():
                p.register(c.sock, select.POLLIN)
                by_fd[c.sock.fileno()] = c
            for fd, _ in p.poll(100):
                c = by_fd[fd]
                try:
                    data = c.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                t = time.monotonic()
                if data:
                    c.reply += data
                    c.answered_at = c.answered_at or t
                else:
                    c.closed_at = t

    def close(self) -> None:
        for c in self.conns:
            c.sock.close()


def login_head(length: int = 1000) -> bytes:
    return (b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n{" % length)


def held(attack: Attack) -> list[Conn]:
    """The slow connections the server is still reading: open and unanswered."""
    return [c for c in attack.open_ones() if not c.reply]


@pytest.mark.parametrize("n_addrs", [1, 10])
def test_server_slow_bodies_hold_a_few_threads_each_and_only_until_their_deadline(
        tmp_path, n_addrs):
    """400 logins that send their headers and then a byte every 5 s, from one address or
    from ten: each address keeps 16 and the others are refused (503) at once; a student on
    another address logs in and hands in meanwhile, answered while the slow ones are still
    held; and the held ones are cut (408) at their deadline, not before."""
    srv = fresh_server(tmp_path, "ada")
    addrs = [f"127.0.0.{2 + i}" for i in range(n_addrs)]
    attack = Attack(srv.port, addrs, 400, login_head())
    try:
        attack.open()
        keep = PER_ADDRESS * n_addrs
        assert attack.pump(lambda: sum(c.status == 503 for c in attack.conns) == 400 - keep,
                           timeout=60), [c.status for c in attack.conns]
        refused = [c for c in attack.conns if c.status == 503]
        assert all(b"the most one computer may hold" in c.reply for c in refused)
        still = held(attack)
        assert len(still) == keep
        for addr in addrs:
            assert sum(c.addr == addr for c in still) == PER_ADDRESS
        # The refusals came before any deadline: every held connection is still held.
        assert all(c.reply == b"" and c.closed_at is None for c in still)
        # An honest student on 127.0.0.1, while all of those are held.
        ada = student(srv, "ada")
        r = ada.upload("cp1-functions", corpus("correct.py"))
        assert r.status == 202, r.text
        assert srv.client().get("/api/health").status == 200
        attack.pump(lambda: False, timeout=0)
        assert all(c.reply == b"" and c.closed_at is None for c in still), \
            "the honest requests were answered only after the slow ones' deadline"
        # The held ones are cut at their deadline: 408 with a sentence, never before it.
        assert attack.pump(lambda: all(c.closed_at for c in still), timeout=BODY_DEADLINE_S * 6)
        for c in still:
            assert c.status == 408 and b"took more than 10 s" in c.reply, c.reply[:300]
            assert c.answered_at - c.opened >= BODY_DEADLINE_S - 0.5
        assert ada.wait_graded(r.json()["id"])["score"] == 10
    finally:
        attack.close()
        srv.stop()


def test_server_the_teachers_own_address_has_the_same_limit(tmp_path):
    """400 slow bodies from 127.0.0.1, the teacher's own address: it keeps 16; the teacher's
    next request there is refused with a sentence, a student's from 127.0.0.2 is answered,
    and once the slow ones are cut, 127.0.0.1 is served again."""
    srv = fresh_server(tmp_path, "ada")
    attack = Attack(srv.port, ["127.0.0.1"], 400, login_head())
    try:
        attack.open()
        assert attack.pump(lambda: sum(c.status == 503 for c in attack.conns) == 400 -
                           PER_ADDRESS, timeout=60)
        still = held(attack)
        r = srv.client().get("/api/health")
        assert r.status == 503 and "16 connections" in r.json()["error"], r.text
        assert r.headers.get("Retry-After")
        other = srv.client()
        other.source = "127.0.0.2"
        assert other.get("/api/health").status == 200
        assert other.login("ada").status == 200
        assert all(c.reply == b"" for c in still)
        assert attack.pump(lambda: all(c.closed_at for c in still), timeout=BODY_DEADLINE_S * 6)
        assert all(c.status == 408 for c in still)
        assert srv.client().get("/api/health").status == 200
    finally:
        attack.close()
        srv.stop()


def test_server_a_slowloris_from_one_address_keeps_only_16_connections(tmp_path):
    """200 connections that send a request's headers a byte at a time (never finishing):
    past 16, each is cut once it has waited a second for its request, well before civetweb's
    own 10 s for headers ends the 16 it kept; an upload from another address goes through
    meanwhile."""
    srv = fresh_server(tmp_path, "ada")
    attack = Attack(srv.port, ["127.0.0.2"], 200,
                    b"POST /api/submissions HTTP/1.1\r\nHost: x\r\n", trickle=b"X", every=0.5)
    try:
        attack.open()
        assert attack.pump(lambda: len(attack.open_ones()) <= PER_ADDRESS, timeout=60), \
            len(attack.open_ones())
        ada = student(srv, "ada")
        r = ada.upload("cp1-functions", corpus("correct.py"))
        assert r.status == 202, r.text
        assert attack.pump(lambda: not attack.open_ones(), timeout=60)
        lived = sorted(c.closed_at - c.opened for c in attack.conns)
        # The 16 kept lived civetweb's 10 s for headers; the others were cut after the
        # second of grace, before any of those 16 ended.
        assert all(t >= 9.5 for t in lived[-PER_ADDRESS:]), lived[-PER_ADDRESS:]
        assert all(REQUEST_GRACE_S - 0.2 <= t < 9.5 for t in lived[:-PER_ADDRESS]), lived[:20]
        assert ada.wait_graded(r.json()["id"])["score"] == 10
    finally:
        attack.close()
        srv.stop()


def test_server_answers_1000_connections_at_once_from_a_class_and_refuses_a_flood(tmp_path):
    """1000 connections opened together asking for /api/health: from 125 addresses (8 each,
    a class's browsers) every one gets its 200; from one address every one is answered,
    200 or 503, none left waiting; and the server serves normally afterwards."""
    srv = fresh_server(tmp_path, "ada")
    request = b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    try:
        for addrs in ([f"127.0.1.{i}" for i in range(1, 126)], ["127.0.0.9"]):
            attack = Attack(srv.port, addrs, 1000, request, every=3600)
            try:
                attack.open()
                assert attack.pump(lambda: all(c.closed_at for c in attack.conns),
                                   timeout=120), sum(not c.closed_at for c in attack.conns)
                codes = [c.status for c in attack.conns]
                if len(addrs) > 1:
                    assert codes.count(200) == 1000, {k: codes.count(k) for k in set(codes)}
                else:
                    assert set(codes) <= {200, 503} and codes.count(200) >= PER_ADDRESS, \
                        {k: codes.count(k) for k in set(codes)}
            finally:
                attack.close()
        ada = student(srv, "ada")
        assert ada.upload("cp1-functions", corpus("correct.py")).status == 202
    finally:
        srv.stop()
