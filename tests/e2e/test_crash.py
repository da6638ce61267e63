"""Crashes while grading, end to end: each submission is graded in a process of its own, so
a grading process that dies (a C-level fault injected into the test build
build/markbook-faults, kill -9 from outside, a malformed result, a hang) fails that grading
only. A submission whose grading failed or was interrupted three times in all, across
restarts too, ends as `error` with what happened and is never taken again by itself; the
server keeps answering and grading everyone else throughout, and no grading process or
sandbox outlives its grading."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from markbook_e2e import sandbox_processes
from server_client import Client, Server, corpus, make_course

ROOT = Path(__file__).resolve().parents[2]
STUDENTS = ("ada", "bob", "cy", "dee", "eve")
# Each test starts servers of its own, so tools/run-tests may run them side by side.
SPREAD_TESTS = True
WAIT = 180  # seconds to wait for gradings on a machine that runs other tests too


def faults_binary() -> Path:
    return ROOT / os.environ.get("MARKBOOK_BUILD", "build") / "markbook-faults"


@pytest.fixture
def faults(monkeypatch) -> Path:
    """Serve with the test build whose grading child fails on request (worker.c)."""
    binary = faults_binary()
    assert os.access(binary, os.X_OK), \
        f"no fault-injection build at {binary}: run make {binary.relative_to(ROOT)}"
    monkeypatch.setenv("MARKBOOK", str(binary))
    return binary


@pytest.fixture
def stage(monkeypatch):
    """A TMPDIR of this test's own for markbook's staging folders, so that leftover
    sandboxes can be told from other tests' (the sandbox user must be able to pass it)."""
    path = Path(tempfile.mkdtemp(prefix="mbcrash-tmp-", dir="/tmp"))
    path.chmod(0o711)
    monkeypatch.setenv("TMPDIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def notebook(sleep: float = 0, fault: str = "") -> bytes:
    """The correct is_prime (10/10) that sleeps `sleep` s while it loads, so that its
    sandboxes are running when something happens, and a fault for the test build."""
    text = corpus("correct.py").decode()
    if sleep:
        text = text.replace("    import math\n", f"    import math\n    import time\n"
                            f"    time.sleep({sleep})\n", 1)
    if fault:
        text += f"\n# markbook-fault: {fault}\n"
    return text.encode()


def new_server(tmp_path: Path, workers: int = 2, db: Path | None = None,
               course: Path | None = None) -> Server:
    srv = Server(course or make_course(tmp_path / "course"), db or tmp_path / "markbook.db",
                 workers=workers)
    srv.start()
    if srv.teacher_password:
        for name in STUDENTS:
            srv.add_user(name)
    return srv


def log_of(srv: Server) -> str:
    srv.log.seek(0)
    return srv.log.read()


def login(srv: Server, name: str, password: str | None = None) -> Client:
    c = srv.client()
    r = c.login(name, password) if password else c.login(name)
    assert r.status == 200, r.text
    return c


def wait_for(what, timeout: float = WAIT, every: float = 0.2):
    """The first true value of what(), polled until `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = what()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"still not so after {timeout} s: {what.__doc__ or what}")


def wait_final(teacher: Client, sid: int) -> dict:
    """The teacher's view of submission `sid` once it is done or error."""
    def final():
        s = teacher.get(f"/api/submissions/{sid}").json()
        return s if s["status"] in ("done", "error") else None
    return wait_for(final)


def failures(log: str, sid: int) -> list[str]:
    """The server's lines about failed gradings of submission `sid`."""
    return re.findall(rf"grading submission {sid} failed \(attempt (\d) of 3\)(.*)", log)


def argv_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def grading_processes(server_pid: int) -> dict[str, list[int]]:
    """markbook's grading processes under `server_pid`: supervisors (its children) and
    grading children (theirs)."""
    found: dict[str, list[int]] = {"supervisor": [], "grading child": []}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        argv = argv_of(pid)
        if len(argv) < 2 or argv[1] != "__grade":
            continue
        ppid = parent_of(pid)
        if ppid == server_pid:
            found["supervisor"].append(pid)
        elif argv_of(ppid)[1:2] == ["__grade"] and parent_of(ppid) == server_pid:
            found["grading child"].append(pid)
    return found


def any_grading_process() -> list[int]:
    """Every `markbook __grade` process on the machine whose parent is gone (init's now):
    one that outlived the markbook that started it."""
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()
            and argv_of(int(e.name))[1:2] == ["__grade"] and parent_of(int(e.name)) == 1]


def assert_nothing_left(stage_dir: Path, server_pid: int | None = None) -> None:
    """No sandbox of this test's gradings and no grading process is left."""
    def clean():
        """no sandbox process or grading process left"""
        if sandbox_processes([stage_dir]) or any_grading_process():
            return False
        return server_pid is None or not any(grading_processes(server_pid).values())
    wait_for(clean, timeout=60, every=0.5)
    # Every markbook process has a stage root of its own in TMPDIR, markbook-PID-XXXXXX,
    # removed at its end; one killed leaves it empty (its tmpfs went with it) for the next
    # start to sweep. Only the server's may still be there, and nothing may be left in one.
    for root in stage_dir.iterdir():
        m = re.match(r"markbook-(\d+)-", root.name)
        assert m, f"{root} is not a stage root"
        if int(m[1]) == server_pid:
            continue
        assert not Path(f"/proc/{m[1]}").exists(), f"{root}: its grading process still runs"
        assert not any(root.iterdir()), f"{root} still holds {list(root.iterdir())}"


class Watch(threading.Thread):
    """A class using the server all along: anonymous health checks, a student's list of
    exercises, the teacher's gradebook. Every request must be answered 200, and the
    server process must stay alive."""

    def __init__(self, srv: Server, student: str):
        super().__init__(daemon=True)
        self.srv = srv
        self.clients = {"/api/health": srv.client(), "/api/exercises": login(srv, student),
                        "/api/gradebook": login(srv, "teacher", srv.first_password)}
        self.answered = 0
        self.problems: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for path, client in self.clients.items():
                try:
                    r = client.get(path)
                    if r.status != 200:
                        self.problems.append(f"{path}: {r.status} {r.text[:200]}")
                    else:
                        self.answered += 1
                except OSError as e:
                    self.problems.append(f"{path}: {e}")
            if self.srv.proc.poll() is not None:
                self.problems.append(f"the server exited with {self.srv.proc.returncode}")
                return
            time.sleep(0.1)

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=60)


def test_a_grading_that_crashes_three_times_is_error_and_the_class_goes_on(
        tmp_path, faults, stage):
    """A notebook whose grading process dies of SIGSEGV while its sandboxes run, each
    time: after its third attempt it is `error` with what happened, while the other
    students' uploads are graded with their scores and every page is answered; no
    sandbox of the crashed gradings is left."""
    srv = new_server(tmp_path)
    srv.first_password = srv.teacher_password
    watch = Watch(srv, "dee")
    watch.start()
    try:
        teacher = login(srv, "teacher", srv.teacher_password)
        r = login(srv, "ada").upload("cp1-functions", notebook(sleep=2, fault="segv 800"))
        assert r.status == 202, r.text
        crash = r.json()["id"]
        honest = {}
        for name in ("bob", "cy"):
            c = login(srv, name)
            for f, score in (("correct.py", 10), ("partly_right.py", 5), ("scaffold.py", 0)):
                r = c.upload("cp1-functions", corpus(f))
                assert r.status == 202, r.text
                honest[r.json()["id"]] = score
        s = wait_final(teacher, crash)
        assert s["status"] == "error" and s["attempts"] == 3, s
        assert "killed by signal 11 (SIGSEGV)" in s["message"], s["message"]
        assert "attempt 3 of 3" in s["message"], s["message"]
        assert s["score"] == 0 and all(t["outcome"] == "not run" for t in s["tests"]), s
        for sid, score in honest.items():
            h = wait_final(teacher, sid)
            assert h["status"] == "done" and h["score"] == score and h["attempts"] == 1, h
        lines = failures(log_of(srv), crash)
        assert [n for n, _ in lines] == ["1", "2", "3"], lines
        assert all("killed by signal 11 (SIGSEGV)" in text for _, text in lines), lines
        # Nothing claims it again: it stays as it is.
        time.sleep(3)
        assert teacher.get(f"/api/submissions/{crash}").json()["attempts"] == 3
        assert_nothing_left(stage, srv.proc.pid)
    finally:
        watch.stop()
        srv.stop()
    assert not watch.problems, watch.problems[:10]
    assert watch.answered > 20, watch.answered


FAILURES = {
    "abort": "killed by signal 6 (SIGABRT)",
    "stack": "killed by signal 11 (SIGSEGV)",
    "exit": "stopped with exit status 3",
    "garbage": "wrote a malformed result (",
    "silent": "ended without writing a result",
}


def test_each_way_a_grading_process_fails_is_told_to_the_teacher_only(
        tmp_path, faults, stage):
    """An abort, a stack overflow, an exit with a status, half a result followed by noise,
    and no result at all: each submission is `error` after three attempts with its own
    sentence for the teacher; its student sees only that the teacher's side failed. An
    honest upload after them is graded."""
    srv = new_server(tmp_path)
    try:
        teacher = login(srv, "teacher", srv.teacher_password)
        sids = {}
        for name, kind in zip(STUDENTS, FAILURES):
            c = login(srv, name)
            r = c.upload("cp1-functions", notebook(fault=kind))
            assert r.status == 202, r.text
            sids[kind] = (r.json()["id"], c)
        for kind, (sid, student) in sids.items():
            s = wait_final(teacher, sid)
            assert s["status"] == "error" and s["attempts"] == 3, (kind, s)
            assert FAILURES[kind] in s["message"], (kind, s["message"])
            mine = student.get(f"/api/submissions/{sid}").json()
            assert mine["status"] == "error", mine
            assert "teacher's side" in mine["message"], mine
            for word in ("SIG", "process", "result", "status 3"):
                assert word not in mine["message"], (word, mine)
            assert len(failures(log_of(srv), sid)) == 3
        r = login(srv, "ada").upload("cp1-functions", corpus("correct.py"))
        assert r.status == 202, r.text
        s = wait_final(teacher, r.json()["id"])
        assert s["status"] == "done" and s["score"] == 10, s
        assert srv.proc.poll() is None
        assert_nothing_left(stage, srv.proc.pid)
    finally:
        srv.stop()


@pytest.mark.parametrize("victim", ["grading child", "supervisor"])
def test_kill_9_of_a_grading_process_mid_run_fails_that_attempt_only(tmp_path, stage, victim):
    """kill -9 of the process that grades (or of its supervisor) while the notebook's
    sandboxes run: that attempt fails with the signal named, the next one grades the
    notebook (10/10 on its second attempt), and no sandbox of the killed grading is left."""
    srv = new_server(tmp_path, workers=1)
    try:
        teacher = login(srv, "teacher", srv.teacher_password)
        r = login(srv, "ada").upload("cp1-functions", notebook(sleep=4))
        assert r.status == 202, r.text
        sid = r.json()["id"]

        def running():
            """a grading child of the server runs the notebook's sandboxes"""
            procs = grading_processes(srv.proc.pid)
            if procs["grading child"] and sandbox_processes([stage]):
                return procs[victim][0]
            return None
        os.kill(wait_for(running), signal.SIGKILL)
        s = wait_final(teacher, sid)
        assert s["status"] == "done" and s["score"] == 10 and s["attempts"] == 2, s
        lines = failures(log_of(srv), sid)
        assert len(lines) == 1 and lines[0][0] == "1", lines
        assert "killed by signal 9 (SIGKILL)" in lines[0][1], lines
        assert_nothing_left(stage, srv.proc.pid)
    finally:
        srv.stop()


def test_a_submission_that_markbook_dies_grading_is_given_up_at_the_third_start(
        tmp_path, stage):
    """The crash loop of old: markbook is killed (kill -9) while it grades the same
    submission, three times. Each start counts the interrupted attempt; at the fourth start
    the submission is `error`, saying markbook stopped while grading it, and is not taken
    again; the grading processes of a killed server do not outlive it; later uploads are
    graded."""
    course = make_course(tmp_path / "course")
    db = tmp_path / "markbook.db"
    srv = new_server(tmp_path, workers=1, course=course, db=db)
    password = srv.teacher_password
    r = login(srv, "ada").upload("cp1-functions", notebook(sleep=60))
    assert r.status == 202, r.text
    sid = r.json()["id"]
    try:
        for start in (1, 2, 3):
            if start > 1:
                srv = Server(course, db, workers=1).start()
            teacher = login(srv, "teacher", password)

            def grading():
                """it is being graded, its attempt counted"""
                s = teacher.get(f"/api/submissions/{sid}").json()
                return s["status"] == "grading" and s["attempts"] == start and \
                    grading_processes(srv.proc.pid)["grading child"]
            wait_for(grading)
            srv.kill()
            assert_nothing_left(stage)
        srv = Server(course, db, workers=1).start()
        assert "1 submission whose grading started 3 times without a result is marked " \
               "error" in srv.output, srv.output
        teacher = login(srv, "teacher", password)
        s = teacher.get(f"/api/submissions/{sid}").json()
        assert s["status"] == "error" and s["attempts"] == 3, s
        assert s["message"].startswith("markbook stopped"), s["message"]
        assert "attempt 3 of 3" in s["message"], s["message"]
        r = login(srv, "bob").upload("cp1-functions", corpus("correct.py"))
        assert r.status == 202, r.text
        assert wait_final(teacher, r.json()["id"])["score"] == 10
        assert teacher.get(f"/api/submissions/{sid}").json()["attempts"] == 3
    finally:
        srv.stop()


def test_attempts_are_kept_across_a_restart_between_them(tmp_path, faults, stage):
    """The server is stopped after the first crash of a submission's grading and started
    again: the attempts go on from where they were, so it crashes three times in all
    across both runs, not three more."""
    course = make_course(tmp_path / "course")
    db = tmp_path / "markbook.db"
    srv = new_server(tmp_path, workers=1, course=course, db=db)
    password = srv.teacher_password
    r = login(srv, "ada").upload("cp1-functions", notebook(sleep=2, fault="segv 1000"))
    assert r.status == 202, r.text
    sid = r.json()["id"]
    try:
        wait_for(lambda: failures(log_of(srv), sid))
        srv.stop()
        first = failures(srv.output, sid)
        with sqlite3.connect(db, timeout=30) as conn:
            status, attempts = conn.execute("SELECT status, attempts FROM submissions "
                                            "WHERE id = ?", (sid,)).fetchone()
        assert 1 <= len(first) < 3 and attempts == len(first) and status == "queued", \
            (first, status, attempts)
        srv = Server(course, db, workers=1).start()
        teacher = login(srv, "teacher", password)
        s = wait_final(teacher, sid)
        assert s["status"] == "error" and s["attempts"] == 3, s
        second = failures(log_of(srv), sid)
        assert [n for n, _ in first + second] == ["1", "2", "3"], (first, second)
        assert_nothing_left(stage, srv.proc.pid)
    finally:
        srv.stop()


def test_a_grading_process_that_hangs_is_stopped_at_its_time_limit(tmp_path, faults, stage):
    """A grading child that never answers (it hangs, the sandbox's own clock aside) is
    stopped by its supervisor after the exercise's timeout_s plus its slack, and that
    attempt fails with a sentence saying so; the server answers meanwhile."""
    course = make_course(tmp_path / "course")
    timeout_s = json.loads((course / "exercises" / "cp1-functions" / "exercise.json")
                           .read_text())["timeout_s"]
    srv = new_server(tmp_path, course=course)
    try:
        r = login(srv, "ada").upload("cp1-functions", notebook(fault="hang"))
        assert r.status == 202, r.text
        sid = r.json()["id"]
        started = time.monotonic()
        lines = wait_for(lambda: failures(log_of(srv), sid), timeout=WAIT, every=0.5)
        limit = timeout_s + 30  # worker.h's WORKER_SLACK_S
        assert f"did not finish within {limit} s" in lines[0][1], lines
        assert time.monotonic() - started >= limit
        assert srv.client().get("/api/health").status == 200
        srv.kill()  # its second attempt hangs too: the grading processes go with it
        assert_nothing_left(stage)
    finally:
        srv.stop()


def test_markbook_grade_goes_on_after_a_file_whose_grading_crashes(tmp_path, faults, stage):
    """`markbook grade` on a batch where one file makes its grading process crash: the
    other files are graded, that file's line says "error:" and what happened, and the exit
    status is 1."""
    course = make_course(tmp_path / "course")
    files = []
    for name, data in (("a.py", corpus("correct.py")), ("crash.py", notebook(fault="segv")),
                       ("c.py", corpus("partly_right.py"))):
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    proc = subprocess.run([str(faults), "grade", "--course", str(course), "--exercise",
                           "cp1-functions", "--jobs", "2", *files],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc
    out = proc.stdout
    assert re.search(r"a\.py  10/10  done", out), out
    assert re.search(r"c\.py  5/10  done", out), out
    assert re.search(r"crash\.py  0/10  error: The grading process was killed by signal 11 "
                     r"\(SIGSEGV\)", out), out
    assert "2 files graded" in out and "1 system error" in out, out
    assert_nothing_left(stage)
