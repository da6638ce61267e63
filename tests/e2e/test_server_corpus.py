"""The hostile corpus of 1/7 and 2/7 handed in through the server (not only `markbook grade`),
all at once, while honest students upload: every file gets the score expected.json (or
test_isolation.py) gives it, the honest scores stay exact, nothing escapes to the host, and no
student sees a byte of the hidden tests."""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from pathlib import Path

import pytest

from markbook_e2e import MARKER_GLOBS
from server_client import ROOT, Client, Server, make_course
from test_isolation import EXPECTED as TRICKS_EXPECTED, NAIVE_TESTS

CP1 = ROOT / "tests" / "corpus" / "cp1-functions"
TRICKS = ROOT / "tests" / "corpus" / "tricks"
HOSTILE = ["network.py", "memory_bomb.py", "output_flood.py", "disk_fill.py",
           "read_outside.py", "escape_write.py", "symlink_trap.py", "fake_report.py",
           "exit_early.py", "patch_pytest.py", "patch_testreport.py", "daemon.py",
           "fork_bomb.py", "infinite_loop.py", "hang_one_test.py"]
HONEST_UPLOADS = 4  # per honest student
HONEST = [("cp1-functions", "correct.py", 10), ("cp1-functions", "partly_right.py", 5),
          ("naive", "correct.py", 9)]


def markers() -> list[str]:
    found = []
    for pattern in MARKER_GLOBS:
        parent = Path(pattern).parent
        if parent.is_dir():
            found += [str(p) for p in parent.glob(Path(pattern).name)]
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server with cp1-functions (short limits) and the naive-tests exercise of
    test_isolation.py, a listener the network attack must not reach, and a victim folder."""
    tmp = tmp_path_factory.mktemp("corpus")
    course = make_course(tmp / "course")
    spec = course / "exercises" / "cp1-functions" / "exercise.json"
    spec.write_text(json.dumps({**json.loads(spec.read_text()), "timeout_s": 6,
                                "test_timeout_s": 2}))
    canary = "canary-" + secrets.token_hex(12)
    (course / "exercises" / "naive").mkdir()
    (course / "hidden" / "naive").mkdir()
    (course / "exercises" / "naive" / "naive.py").write_bytes(
        (ROOT / "exercises" / "cp1-functions" / "cp1-functions.py").read_bytes())
    (course / "exercises" / "naive" / "exercise.json").write_text(json.dumps({
        "title": "Naive tests", "phase": 2, "max_points": 9, "timeout_s": 20,
        "test_timeout_s": 4, "isolation": "process"}))
    (course / "hidden" / "naive" / "test_naive.py").write_text(
        NAIVE_TESTS.format(canary=canary))
    (course / "hidden" / "naive" / "solution.py").write_bytes(  # for the publish gate
        (ROOT / "hidden" / "cp1-functions" / "solution.py").read_bytes())
    for path in course.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    victim = tmp / "victim"
    victim.mkdir()
    victim.chmod(0o755)
    (victim / "keep-me.txt").write_text("the symlink trap must not delete this\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    before = markers()
    srv = Server(course, tmp / "markbook.db", workers=2).start()
    yield {"server": srv, "course": course, "victim": victim, "listener": listener,
           "canary": canary, "markers_before": before}
    srv.stop()
    listener.close()


def source_of(world: dict, folder: Path, name: str) -> bytes:
    text = (CP1 / "correct.py" if name == "correct.py" and folder == TRICKS
            else folder / name).read_text()
    port = world["listener"].getsockname()[1]
    text = text.replace("@CANARY@", world["canary"][::-1])
    text = re.sub(r"(?m)^(\s*)PORT = \d+", rf"\g<1>PORT = {port}", text)
    text = re.sub(r'(?m)^(\s*)COURSE = ".*?"', rf'\g<1>COURSE = "{world["course"]}"', text)
    text = re.sub(r'(?m)^(\s*)VICTIM = ".*?"', rf'\g<1>VICTIM = "{world["victim"]}"', text)
    return text.encode()


def test_server_grades_the_hostile_corpus_and_honest_work_alongside(world):
    srv: Server = world["server"]
    jobs = [("cp1-functions", CP1, name, json.loads((CP1 / "expected.json").read_text())[name])
            for name in HOSTILE]
    jobs += [("naive", TRICKS, name, {"status": "done", "score": process})
             for name, _, process in TRICKS_EXPECTED if name != "correct.py"]
    # One account per hostile file (3 may wait per student); two honest students upload in
    # threads at the same time, one notebook after another (a fixed number, so the check
    # does not depend on how fast this machine grades).
    clients: list[Client] = []
    for i in range(len(jobs)):
        srv.add_user(f"h{i}")
        c = srv.client()
        assert c.login(f"h{i}").status == 200
        clients.append(c)
    honest: list[tuple[int, int, Client]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def honest_student(k: int, c: Client) -> None:
        try:
            upload_honestly(k, c)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(f"honest{k}: {e!r}")

    def upload_honestly(k: int, c: Client) -> None:
        j = 0
        while j < HONEST_UPLOADS:
            slug, name, score = HONEST[(k + j) % len(HONEST)]
            r = c.post_json("/api/submissions", {
                "exercise": slug, "source": (CP1 / name).read_text()})
            if r.status == 202:
                j += 1
                with lock:
                    honest.append((r.json()["id"], score, c))
                c.wait_graded(r.json()["id"], timeout=300)
            else:  # too many waiting: try again in a moment, as a student would
                assert r.status == 429, r.text
                time.sleep(1)

    threads = []
    for k in range(2):
        srv.add_user(f"honest{k}")
        c = srv.client()
        assert c.login(f"honest{k}").status == 200
        threads.append(threading.Thread(target=honest_student, args=(k, c), daemon=True))
    for t in threads:
        t.start()
    sids = []
    for c, (slug, folder, name, _) in zip(clients, jobs):
        r = c.post_json("/api/submissions", {"exercise": slug,
                                             "source": source_of(world, folder, name).decode()})
        assert r.status == 202, (name, r.text)
        sids.append(r.json()["id"])
    results = [c.wait_graded(sid, timeout=400) for c, sid in zip(clients, sids)]
    for t in threads:
        t.join(timeout=600)
        assert not t.is_alive(), "an honest student is still waiting for a result"
    teacher = srv.client()
    assert teacher.login("teacher", srv.teacher_password).status == 200
    wrong = []
    for (slug, _, name, want), seen, sid in zip(jobs, results, sids):
        full = teacher.get(f"/api/submissions/{sid}").json()
        if (full["status"], full["score"]) != (want["status"], want["score"]):
            wrong.append(f"{slug}/{name}: {full['status']} {full['score']} (want "
                         f"{want['status']} {want['score']}): {full['message'][:200]}")
        for flag in want.get("flags_contain", []):
            if flag not in full["flags"]:
                wrong.append(f"{slug}/{name}: no flag {flag} in {full['flags']}")
        # No student sees the hidden tests; in process isolation not even the teacher's
        # copy of the run's output holds them (the notebook could not read them).
        assert world["canary"] not in json.dumps(seen), name
        if slug == "naive":
            assert world["canary"] not in json.dumps(full), name
    assert not errors, errors
    assert not wrong, "\n".join(wrong)
    assert len(honest) == 2 * HONEST_UPLOADS, f"only {len(honest)} honest uploads went through"
    for sid, score, c in honest:
        s = c.get(f"/api/submissions/{sid}").json()
        assert s["status"] == "done" and s["score"] == score, s
    # Nothing reached the host.
    assert sorted(markers()) == sorted(world["markers_before"]), markers()
    assert (world["victim"] / "keep-me.txt").is_file()
    try:
        conn, _ = world["listener"].accept()
        conn.close()
        raise AssertionError("a sandbox connected to the host's listener")
    except BlockingIOError:
        pass
    assert srv.client().get("/api/health").json()["ok"] is True
