"""The login throttle cannot be flushed: failures from hundreds of loopback addresses (each a
computer of its own to the server), with 80-byte passwords, more than its tables hold, leave
every locked-out pair and account locked, keep counting new failures against their account,
and never stop a student who types the right password.

The flood fails against students imported from a roster: their one-time passwords are hashed
at bcrypt cost 6, so each failure costs the server ~3 ms rather than a full login's ~100 ms,
and the test can make more failures than the 4,096 entries the table of addresses holds."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from server_client import Client, Server, make_course

SPREAD_TESTS = True

STUDENTS = 200
ADDRESSES = 210          # x 20 failures each (the per-address limit): 4,200 pairs
PER_ADDRESS = 20         # AUTH_THROTTLE_ADDR
PER_PAIR = 5             # AUTH_THROTTLE_PAIR
PER_USER = 50            # AUTH_THROTTLE_USER
LONG = "x" * 80          # past bcrypt's 72 bytes


def client(srv: Server, addr: str) -> Client:
    c = srv.client()
    c.source = addr
    return c


@pytest.fixture
def srv(tmp_path: Path):
    srv = Server(make_course(tmp_path / "course"), tmp_path / "markbook.db").start()
    for name in ("ada", "bob", "cy"):
        srv.add_user(name)
    yield srv
    srv.stop()


def import_roster(srv: Server, tmp_path: Path) -> dict[str, str]:
    """Students f0..f199 and dee, with the one-time passwords the import printed."""
    import subprocess
    from server_client import markbook
    csv = tmp_path / "class.csv"
    csv.write_text("username\n" + "".join(f"f{i}\n" for i in range(STUDENTS)) + "dee\n")
    r = subprocess.run([markbook(), "roster", "import", "--db", str(srv.db), str(csv)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return dict(re.findall(r"^  (\S+)\s+(\S+)", r.stdout, re.M))


def test_server_a_flood_of_failures_from_many_addresses_frees_no_locked_account(srv, tmp_path):
    passwords = import_roster(srv, tmp_path)
    assert len(passwords) == STUDENTS + 1
    # ada is locked out on the classmate's computer 127.0.0.2 (5 failures for her there);
    # bob is locked out everywhere (50 failures from ten computers).
    guesser = client(srv, "127.0.0.2")
    for _ in range(PER_PAIR):
        assert guesser.login("ada", "wrong").status == 401
    for i in range(PER_USER):
        assert client(srv, f"127.0.2.{1 + i // PER_PAIR}").login("bob", "wrong").status == 401
    assert guesser.login("ada").status == 429
    assert client(srv, "127.0.3.1").login("bob").status == 429
    # The flood: every address fails 20 times, on 20 different students, with long
    # passwords: 4,200 pairs and 210 addresses to remember, more than the table holds.
    errors: list[str] = []

    def flood(first: int, step: int) -> None:
        for a in range(first, ADDRESSES, step):
            c = client(srv, f"127.0.{10 + a // 250}.{1 + a % 250}")
            for k in range(PER_ADDRESS):
                r = c.login(f"f{(a * PER_ADDRESS + k) % STUDENTS}", LONG)
                if r.status != 401:
                    errors.append(f"{a}/{k}: {r.status} {r.text[:100]}")
                    return

    threads = [threading.Thread(target=flood, args=(i, 4), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:5]
    # Locked stays locked: the right password waits on the classmate's computer, and bob
    # waits everywhere.
    r = guesser.login("ada")
    assert r.status == 429, r.text
    assert client(srv, "127.0.4.1").login("bob").status == 429
    # The table of addresses is full: a new computer's failures on one student are no
    # longer counted per computer (the 6th is still a 401) but against the account, which
    # locks at 50 as always.
    dee = passwords["dee"]
    fresh = client(srv, "127.0.5.1")
    assert [fresh.login("dee", LONG).status for _ in range(PER_PAIR + 1)] == [401] * 6
    for i in range(PER_USER - PER_PAIR - 1):
        assert client(srv, f"127.0.6.{1 + i}").login("dee", LONG).status == 401
    assert client(srv, "127.0.7.1").login("dee", dee).status == 429
    # Students who type their password are never stopped by the flood.
    assert client(srv, "127.0.8.1").login("cy").status == 200
    assert client(srv, "127.0.8.2").login("f7", passwords["f7"]).status == 200
    assert client(srv, "127.0.8.3").login("ada").status == 200  # from her own computer


def test_server_an_over_long_password_is_a_failure_like_any_other(srv):
    """80 bytes whose first 72 are the password still fail, and count: five lock the pair."""
    c = client(srv, "127.0.0.3")
    srv.add_user("long", password="p" * 72)
    for _ in range(PER_PAIR):
        assert c.login("long", "p" * 80).status == 401
    assert c.login("long", "p" * 72).status == 429
    assert client(srv, "127.0.0.4").login("long", "p" * 72).status == 200
