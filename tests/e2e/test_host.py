"""After grading the hostile corpus, the host is as it was.

These tests run after the batches they depend on (they ask for them first): no process of the
sandbox user, no staging dir left in the TMPDIR markbook was given, no marker file written
outside, no connection to the loopback listener, no secret in markbook's output, the symlink
trap's victim intact.
"""

from __future__ import annotations

import glob
import os
import select
import time

import pytest

from markbook_e2e import (BATCHES, MARKER_GLOBS, sandbox_processes, sandbox_user_exists)

HOSTILE = ("hostile", "crosstalk")


@pytest.fixture(scope="module")
def graded(world):
    """Every batch graded (hostile ones included) before the host is inspected."""
    return {name: world.batch(name) for name in BATCHES}


def test_no_sandbox_process_is_left(world, graded):
    """markbook returns only when every process of its runs is gone (daemon, fork bomb)."""
    if os.geteuid() != 0 or not sandbox_user_exists():
        pytest.skip("markbook drops to the sandbox user only when run as root")
    left = sandbox_processes(world.tmpdirs)
    deadline = time.monotonic() + 2  # the kernel may still be reaping a killed namespace
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = sandbox_processes(world.tmpdirs)
    assert left == [], "processes of the sandbox user after grading:\n" + "\n".join(left)


def test_no_staging_dir_is_left(world, graded):
    """Each run's staging dir is removed, even one a submission filled with traps."""
    leftovers = [str(p) for run in graded.values() for p in run.tmpdir.iterdir()
                 if p.name.startswith("markbook-")]
    assert leftovers == []


def test_nothing_was_written_outside_the_staging_dir(world, graded):
    """escape_write.py's markers exist nowhere on the host, course folder included."""
    found = [p for pattern in MARKER_GLOBS for p in glob.glob(pattern)]
    found += [str(p) for p in world.course.rglob("markbook-pwned-*")]
    found += [str(p) for run in graded.values() for p in run.tmpdir.glob("*pwned*")]
    assert found == []


def test_the_listener_got_no_connection(world, graded):
    """network.py's connection to the host's loopback never arrived."""
    readable, _, _ = select.select([world.listener], [], [], 0)
    assert readable == [], "the loopback listener has a pending connection from a sandbox"


def test_no_secret_reaches_the_output(world, graded):
    """Nothing read from /etc/shadow, /root or the hidden solution appears in any output."""
    for name, run in graded.items():
        text = run.stdout + run.stderr
        for canary in world.canaries:
            assert canary not in text, f"batch {name}: a secret ({canary[:20]}...) leaked"


def test_the_symlink_trap_did_no_harm(world, graded):
    """Clean-up did not follow symbolic links out of the staging dir."""
    assert (world.victim / "keep-me.txt").read_text().startswith("the symlink trap")
    assert os.path.getsize("/etc/passwd") > 0


def test_output_is_bounded(world, graded):
    """output_flood.py printed 19 MiB; markbook keeps 64 KiB of a run's output at most."""
    run = graded["hostile"]
    assert len(run.stdout) + len(run.stderr) < 1024 * 1024
    assert run.stdout.count("FLOOD") * 6 <= 64 * 1024 + 1024


@pytest.mark.parametrize("name", ["correct.py", "plain.py"])
def test_a_fork_bomb_does_not_starve_its_neighbours(world, graded, name):
    """Graded next to fork_bomb.py with --jobs 2, correct files keep full marks."""
    result = graded["crosstalk"].by_name()[name]
    assert (result["status"], result["score"]) == ("done", 10), result
