"""What a notebook does stays in its sandbox and ends with its grading (SECURITY.md, "What the
sandbox enforces"). Each class of attack runs with the real binary next to honest notebooks,
which must keep their full marks:

- traps for what markbook does as root in the staging folder: a folder chain 2,400 deep, a
  folder and a link to a victim outside swapped by renameat2(RENAME_EXCHANGE) in a loop, hard
  links (tests/corpus/host/tree_traps.py), through `markbook grade` and `markbook serve`;
- the host's files outside the allow-list: /srv, /opt, /var/tmp, /mnt, /media, a top folder
  made by the test, a course copy under /srv, and the TMPDIR markbook stages in, set outside
  /tmp (host_files.py);
- inter-process objects: SysV shared memory (touched), semaphores and message queues, a POSIX
  message queue and POSIX shared memory (ipc_leftovers.py);
- memory across processes: three children of 300 MiB each against memory_mb 512
  (three_children.py, on the pandas exercise);
- and afterwards, no process, mount, file, control group or IPC object of a grading; the
  teacher's health page says which limits are in force.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from markbook_e2e import CORPUS, sandbox_processes, sandbox_user_exists
from server_client import ROOT, Server, make_course, student, teacher_of

HOST = CORPUS / "host"
AS_ROOT = os.geteuid() == 0 and sandbox_user_exists()
root_only = pytest.mark.skipif(not AS_ROOT, reason="markbook isolates the host as root only")

IPC_KEYS = [0x4D420000 + i for i in (0, 1, 2, 3, 8, 9)]  # ipc_leftovers.py's KEY + ...
IPC_NAME = "markbook-ipc-leftover"


def expected_cgroup() -> str:
    """The control groups markbook should find here, found independently of it: the unified
    hierarchy when its top offers memory and pids, else v1 memory and pids hierarchies."""
    if not AS_ROOT:
        return "none"
    v1: set[str] = set()
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, after = line.split(" - ", 1)
        fstype, _, options = after.split()[:3]
        if fstype == "cgroup2":
            ctl = (Path(before.split()[4]) / "cgroup.controllers").read_text().split()
            if "memory" in ctl and "pids" in ctl:
                return "v2"
        elif fstype == "cgroup":
            v1.update(options.split(","))
    return "v1" if {"memory", "pids"} <= v1 else "none"


def cgroups_of(pid: int) -> list[str]:
    """Control groups markbook process `pid` made for its sandboxes and has not removed
    (sandbox.c names them markbook-PID-N, beside or below markbook's own)."""
    mounts = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, after = line.split(" - ", 1)
        fstype, _, options = after.split()[:3]
        if fstype in ("cgroup", "cgroup2"):
            mounts[before.split()[4]] = (fstype, options)
    places = [Path(m) / "markbook" for m, (t, _) in mounts.items() if t == "cgroup2"]
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for m, (t, options) in mounts.items():
            if t == "cgroup" and controllers and set(controllers.split(",")) <= set(
                    options.split(",")):
                places.append(Path(m + path))
    return sorted(str(p / name) for p in places if p.is_dir()
                  for name in os.listdir(p) if name.startswith(f"markbook-{pid}-"))


def grading_pids(server: int) -> list[int]:
    """The grading processes of markbook process `server` (worker.c: `markbook __grade`, a
    supervisor and its grading child), which make the stage roots and control groups of its
    gradings under their own pids."""
    def parent(pid: str) -> int:
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return 0
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and argv[1:2] == [b"__grade"] and (
                parent(entry.name) == server or parent(str(parent(entry.name))) == server):
            found.append(int(entry.name))
    return found


class Makers(threading.Thread):
    """Every pid that makes stage roots and control groups for the gradings of markbook
    process `server`: the server itself and, looked for every 20 ms while it grades (each
    grading takes far longer), its grading processes."""

    def __init__(self, server: int):
        super().__init__(daemon=True)
        self.server = server
        self.pids = {server}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.pids.update(grading_pids(self.server))
            time.sleep(0.02)

    def stop(self) -> list[int]:
        self.done.set()
        self.join(timeout=30)
        return sorted(self.pids)


def leaked_processes(tmpdirs: list[Path], pid: int | None = None) -> list[str]:
    """Processes of the sandbox user that gradings left: in a control group of markbook
    process `pid`, or (without `pid`) of one that has ended. Where control groups are in force
    every sandbox process lives in one named markbook-PID-N until it is gone, which tells
    leftovers from the live sandboxes of other markbook runs on the machine (tests running
    beside these, a developer's, a build of another branch); elsewhere, markbook_e2e's
    attribution by TMPDIR."""
    if expected_cgroup() == "none":
        return sandbox_processes(tmpdirs)
    left = []
    for line in sandbox_processes():
        try:
            groups = Path(f"/proc/{line.split()[0]}/cgroup").read_text()
        except OSError:
            continue  # gone meanwhile
        for owner in re.findall(r"/markbook-(\d+)-", groups):
            if int(owner) == pid or (pid is None and not Path(f"/proc/{owner}").exists()):
                left.append(line)
                break
    return left


def ipc_left() -> list[str]:
    """ipc_leftovers.py's objects that exist on the host: SysV ones by key, the POSIX message
    queue (seen through an mqueue mount of the host's IPC namespace) and shared memory."""
    left = []
    for kind in ("shm", "sem", "msg"):
        for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]:
            if int(line.split()[0]) in IPC_KEYS:
                left.append(f"SysV {kind}: {line.strip()}")
    mnt = Path(tempfile.mkdtemp(prefix="mbe2e-mqueue-"))
    try:
        if subprocess.run(["mount", "-t", "mqueue", "mqueue", str(mnt)]).returncode == 0:
            try:
                left += [f"POSIX mqueue {n}" for n in os.listdir(mnt) if n == IPC_NAME]
            finally:
                subprocess.run(["umount", str(mnt)], check=True)
    finally:
        mnt.rmdir()
    if Path("/dev/shm", IPC_NAME).exists():
        left.append(f"/dev/shm/{IPC_NAME}")
    return left


def remove_ipc_leftovers() -> None:
    """What an earlier failed session left would fail this one for nothing."""
    for kind, flag in (("shm", "-M"), ("sem", "-S"), ("msg", "-Q")):
        for key in IPC_KEYS:
            subprocess.run(["ipcrm", flag, str(key)], capture_output=True)
    Path("/dev/shm", IPC_NAME).unlink(missing_ok=True)


def remove(path: Path) -> None:
    """rm -rf, which also copes with what a markbook that failed these tests would leave: a
    folder chain deeper than Python's recursion (shutil.rmtree) reaches."""
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)


def victim_state(victim: Path) -> tuple:
    """Mode, owner and content of the victim folder and its file, to compare after."""
    folder, file = victim.stat(), (victim / "keep-me.txt").stat()
    return (folder.st_mode, folder.st_uid, folder.st_gid, file.st_mode, file.st_uid,
            file.st_gid, (victim / "keep-me.txt").read_bytes())


def hostile(name: str, **lines: str) -> bytes:
    """tests/corpus/host/`name` with its template lines (NAME = "...") set."""
    text = (HOST / name).read_text()
    for key, value in lines.items():
        text, n = re.subn(rf'(?m)^(\s*){key} = ".*?"', rf'\g<1>{key} = "{value}"', text)
        assert n == 1, (name, key)
    return text.encode()


# Time limits for these tests' course copies: the short ones of markbook_e2e.LIMITS would turn a
# busy machine (the suite runs three files at once) into a time limit, and what these tests
# show does not depend on time.
ROOMY = {"cp1-functions": {"timeout_s": 30, "test_timeout_s": 10},
         "ds1-sales": {"timeout_s": 60, "test_timeout_s": 20}}


def copy_course(src: Path, dest: Path) -> Path:
    """A copy of the course `src` at `dest` with ROOMY limits, readable by anyone."""
    shutil.copytree(src, dest)
    for slug, limits in ROOMY.items():
        spec = dest / "exercises" / slug / "exercise.json"
        spec.write_text(json.dumps({**json.loads(spec.read_text()), **limits}))
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


@pytest.fixture(scope="module")
def roomy(world, tmp_path_factory):
    """The e2e course (its solution's canary included) with ROOMY limits."""
    folder = Path(tempfile.mkdtemp(prefix="mbe2e-roomy-", dir="/var/tmp"))
    yield copy_course(world.course, folder / "course")
    shutil.rmtree(folder, ignore_errors=True)


def graded(run) -> dict[str, dict]:
    assert run.returncode == 0, run.describe()
    return run.by_name()


def full_marks(results: dict[str, dict], names: list[str], points: int) -> None:
    for name in names:
        r = results[name]
        assert (r["status"], r["score"]) == ("done", points), (name, r)


@root_only
def test_traps_in_the_staging_folder_leave_the_host_as_it_was(world, roomy):
    """A 2,400-deep folder chain, a folder and a link to the victim swapped in a loop, hard
    links: `markbook grade` neither crashes nor touches the victim's mode, owner or content,
    and grades the trap and the honest notebooks beside it 10/10."""
    before = victim_state(world.victim)
    folder = world.submissions / "traps"
    folder.mkdir(exist_ok=True)
    (folder / "tree_traps.py").write_bytes(hostile("tree_traps.py", VICTIM=str(world.victim)))
    files = [folder / "tree_traps.py", world.submission("cp1-functions", "correct.py", "traps"),
             world.submission("cp1-functions", "plain.py", "traps")]
    run = world.grade("cp1-functions", files, jobs=2, course=roomy)
    full_marks(graded(run), ["tree_traps.py", "correct.py", "plain.py"], 10)
    assert victim_state(world.victim) == before
    assert list(run.tmpdir.iterdir()) == [], "the staging root outlived markbook grade"
    assert leaked_processes(world.tmpdirs) == []


@root_only
@pytest.mark.parametrize("stage_parent", ["/var/tmp", "/srv"])
def test_host_files_outside_the_allow_list_are_unseen(world, stage_parent):
    """Files planted in /srv, /opt, /var/tmp, /mnt, /media and a top folder made now, a copy
    of the course (hidden tests, solution.py) under /srv, and the folder markbook stages in
    (TMPDIR outside /tmp): the notebook finds none of them, and scores 10/10 with nothing in
    its output, next to an honest notebook."""
    token = secrets.token_hex(6)
    canary = f"mbe2e-host-canary-{token}"
    planted: list[Path] = []
    top = Path(f"/data-xyz-{token}")
    course = Path(f"/srv/mbe2e-course-{token}")
    stage = Path(tempfile.mkdtemp(prefix="mbe2e-stage-", dir=stage_parent))
    stage.chmod(0o711)  # the sandbox user passes through to its home, as under /tmp
    try:
        top.mkdir(mode=0o755)
        for parent in ("/srv", "/opt", "/var/tmp", "/mnt", "/media", str(top)):
            if not Path(parent).is_dir():
                continue
            folder = Path(parent) / f"mbe2e-host-{token}"
            folder.mkdir(mode=0o755)
            (folder / "notes.txt").write_text(canary + "\n")
            (folder / "notes.txt").chmod(0o644)
            planted.append(folder)
        copy_course(world.course, course)
        folder = world.submissions / f"host-{stage_parent.strip('/').replace('/', '-')}"
        folder.mkdir(exist_ok=True)
        (folder / "host_files.py").write_bytes(
            hostile("host_files.py", COURSE=str(course), STAGE=str(stage)))
        files = [folder / "host_files.py",
                 world.submission("cp1-functions", "correct.py", folder.name)]
        run = world.run(["grade", "--course", str(course), "--exercise", "cp1-functions",
                         "--json", "--jobs", "2", *map(str, files)],
                        files=[str(f) for f in files], tmpdir=stage)
        results = graded(run)
        full_marks(results, ["host_files.py", "correct.py"], 10)
        text = run.stdout + run.stderr
        for secret in [canary, *world.canaries]:
            assert secret not in text, f"{secret[:24]}... reached the output"
        assert list(stage.iterdir()) == [], "the staging root outlived markbook grade"
    finally:
        for folder in planted:
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(course, ignore_errors=True)
        remove(stage)
        if top.is_dir():
            remove(top)


@root_only
def test_memory_of_all_processes_together_is_bounded(world, roomy):
    """Three children of 300 MiB each, each within its 512 MiB of address space: where a
    control group bounds the sandbox's processes together (markbook says when none does),
    the run is stopped, done, 0 and "used more than 512 MB"; the honest pandas notebook graded
    beside it keeps 12/12."""
    folder = world.submissions / "memory"
    folder.mkdir(exist_ok=True)
    (folder / "three_children.py").write_bytes(hostile("three_children.py"))
    files = [folder / "three_children.py", world.submission("ds1-sales", "correct.py", "memory")]
    run = world.grade("ds1-sales", files, jobs=2, course=roomy)
    results = graded(run)
    full_marks(results, ["correct.py"], 12)
    three = results["three_children.py"]
    if expected_cgroup() == "none":
        assert "NOT bounded" in run.stderr, run.describe()
        assert three["status"] == "done" and "time limit" in three["message"].lower(), three
    else:
        assert "NOT bounded" not in run.stderr, run.describe()
        assert (three["status"], three["score"]) == ("done", 0), three
        assert "used more than 512 MB" in three["message"], three
    assert leaked_processes(world.tmpdirs) == []


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server (its own TMPDIR) that has graded the staging traps and the IPC leftovers of one
    student next to another's honest uploads, and is idle again."""
    if not AS_ROOT:
        pytest.skip("markbook isolates the host as root only")
    tmp = tmp_path_factory.mktemp("host")
    stage = Path(tempfile.mkdtemp(prefix="mbe2e-stage-", dir="/tmp"))
    stage.chmod(0o711)
    victim = tmp / "victim"
    victim.mkdir()
    victim.chmod(0o755)
    (victim / "keep-me.txt").write_text("the swap loop must not change this\n")
    remove_ipc_leftovers()
    before = victim_state(victim)
    course = make_course(tmp / "course")
    spec = course / "exercises" / "cp1-functions" / "exercise.json"
    spec.write_text(json.dumps({**json.loads(spec.read_text()), **ROOMY["cp1-functions"]}))
    srv = Server(course, tmp / "markbook.db", workers=2,
                 prefix=["env", f"TMPDIR={stage}"]).start()
    try:
        for name in ("ada", "bob"):
            srv.add_user(name)
        ada, bob = student(srv, "ada"), student(srv, "bob")
        makers = Makers(srv.proc.pid)
        makers.start()
        cp1 = (ROOT / "tests" / "corpus" / "cp1-functions" / "correct.py").read_bytes()
        uploads = {}
        for who, name, source in (
                (ada, "tree_traps.py", hostile("tree_traps.py", VICTIM=str(victim))),
                (bob, "correct.py", cp1),
                (ada, "ipc_leftovers.py", hostile("ipc_leftovers.py")),
                (bob, "correct.py again", cp1)):
            r = who.upload("cp1-functions", source)
            assert r.status == 202, r.text
            uploads[name] = (who, r.json()["id"])
        results = {name: who.wait_graded(sid, timeout=180)
                   for name, (who, sid) in uploads.items()}
        teacher = teacher_of(srv)
        yield {"server": srv, "stage": stage, "victim": victim, "before": before,
               "results": results, "uploads": uploads, "teacher": teacher,
               "makers": makers.stop()}
    finally:
        srv.stop()
        remove(stage)
        remove_ipc_leftovers()


def test_server_grades_the_traps_and_the_honest_students(served):
    """Every upload is graded 10/10 (the traps' functions are correct), the server keeps
    answering, and the victim outside is as it was."""
    for name, s in served["results"].items():
        assert (s["status"], s["score"]) == ("done", 10), (name, s)
    assert served["server"].proc.poll() is None, "the server died"
    assert served["server"].client().get("/api/health").status == 200
    assert victim_state(served["victim"]) == served["before"]


def test_ipc_objects_do_not_outlive_the_grading(served):
    """The notebook made its SysV segments (touched), semaphores and message queue and its
    POSIX message queue (it scores 10/10 only then), and none of them is on the host after."""
    assert served["results"]["ipc_leftovers.py"]["score"] == 10, served["results"]
    assert ipc_left() == []


def test_no_process_mount_or_control_group_of_a_grading_remains(served):
    """Once the server is idle: no process of the sandbox user from its gradings, no mount in
    its namespace but the staging root itself (each home's tmpfs is gone), no control group of
    its sandboxes; and the host sees none of its mounts at all."""
    srv, stage, makers = served["server"], served["stage"], served["makers"]
    assert len(makers) > 1, "no grading process was seen"
    assert all(leaked_processes([stage], m) == [] for m in makers)
    mounts = [line.split()[4] for line in
              Path(f"/proc/{srv.proc.pid}/mountinfo").read_text().splitlines()
              if line.split()[4].startswith(str(stage))]
    assert len(mounts) == 1 and re.fullmatch(rf"{stage}/markbook-{srv.proc.pid}-\w+",
                                             mounts[0]), mounts
    assert not any(str(stage) in line for line in
                   Path("/proc/self/mountinfo").read_text().splitlines())
    assert all(cgroups_of(m) == [] for m in makers)


def test_nothing_of_the_server_remains_after_it_stops(served):
    """Stopped, the server leaves no staging root, file or control group behind."""
    srv, stage, makers = served["server"], served["stage"], served["makers"]
    srv.stop()
    assert list(stage.iterdir()) == []
    assert all(cgroups_of(m) == [] for m in makers)
    assert all(leaked_processes([stage], m) == [] for m in makers)


@root_only
def test_health_says_which_limits_are_in_force(tmp_path):
    """The teacher's /api/health has `limits` (cgroup v1 or v2 as this machine has, the
    homes' tmpfs, bounded), the start-up output says the same, and students see none of it."""
    srv = Server(make_course(tmp_path / "course"), tmp_path / "markbook.db").start()
    try:
        srv.add_user("ada")
        limits = teacher_of(srv).get("/api/health").json()["limits"]
        kind = expected_cgroup()
        assert limits["cgroup"] == kind and limits["files"] == "tmpfs", limits
        assert limits["bounded"] is (kind != "none"), limits
        said = f"(cgroup {kind})" if kind != "none" else "NOT bounded in total"
        assert said in limits["message"] and said in srv.output, (limits, srv.output)
        assert "Memory and processes:" in srv.output and "Files:" in srv.output
        assert "limits" not in student(srv, "ada").get("/api/health").json()
        assert "limits" not in srv.client().get("/api/health").json()
    finally:
        srv.stop()


@root_only
def test_a_killed_server_leaves_nothing_once_started_again(tmp_path):
    """kill -9 while a notebook loops: what its grading held (the stage root in TMPDIR, the
    control groups and the sandbox processes still running in them) is gone once markbook
    has started again, and the interrupted submission is graded."""
    stage = Path(tempfile.mkdtemp(prefix="mbe2e-stage-", dir="/tmp"))
    stage.chmod(0o711)
    course, db = make_course(tmp_path / "course"), tmp_path / "markbook.db"
    first = Server(course, db, prefix=["env", f"TMPDIR={stage}"]).start()
    second = None
    try:
        first.add_user("ada")
        ada = student(first, "ada")
        loop = (ROOT / "tests" / "corpus" / "cp1-functions" / "infinite_loop.py").read_bytes()
        r = ada.upload("cp1-functions", loop)
        assert r.status == 202, r.text
        sid, pid = r.json()["id"], first.proc.pid
        end = time.monotonic() + 60
        while ada.get(f"/api/submissions/{sid}").json()["status"] != "grading":
            assert time.monotonic() < end, "the grading did not start"
            time.sleep(0.1)
        # The grading runs in a grading process of the server's, under its own pid.
        makers = [pid]
        while expected_cgroup() != "none" and not any(cgroups_of(m) for m in makers):
            assert time.monotonic() < end, "the sandbox's control group did not appear"
            makers = [pid, *grading_pids(pid)]
            time.sleep(0.05)
        first.kill()
        assert any(p.name.startswith(f"markbook-{pid}-") for p in stage.iterdir())
        second = Server(course, db, prefix=["env", f"TMPDIR={stage}"]).start()
        assert not any(p.name.startswith(f"markbook-{m}-") for m in makers
                       for p in stage.iterdir())
        assert all(cgroups_of(m) == [] for m in makers)
        if expected_cgroup() != "none":  # without groups, nothing tells what it left
            assert all(leaked_processes([stage], m) == [] for m in makers)
        s = student(second, "ada").wait_graded(sid, timeout=120)
        assert (s["status"], s["score"]) == ("done", 0), s
    finally:
        if second:
            second.stop()
        first.stop()
        remove(stage)


@root_only
def test_not_as_root_the_walks_hold_the_traps_and_say_what_is_weaker(world):
    """markbook run by a user other than root (here the sandbox user itself, as a teacher
    would run it as themselves) has no tmpfs and no control groups: it says so on stderr, and
    its walks of the staging folder (through descriptors, without recursion) survive the
    2,400-deep chain and the swap loop without touching the user's own victim file, stop the
    disk filler, and leave nothing behind."""
    import pwd
    user = pwd.getpwnam("markbook-sandbox")
    top = Path(tempfile.mkdtemp(prefix="mbe2e-teacher-", dir="/tmp"))
    try:
        run_not_as_root(world, user, top / "teacher")
    finally:
        remove(top)


def run_not_as_root(world, user, home: Path) -> None:
    """The body of the test above, in `home` (made here, the user's)."""
    home.mkdir()
    course = copy_course(world.course, home / "course")
    victim = home / "victim"
    victim.mkdir()
    (victim / "keep-me.txt").write_text("the teacher's own file\n")
    (victim / "keep-me.txt").chmod(0o640)
    tmpdir = home / "tmp"
    tmpdir.mkdir()
    (home / "tree_traps.py").write_bytes(hostile("tree_traps.py", VICTIM=str(victim)))
    for name in ("correct.py", "disk_fill.py"):
        shutil.copy(CORPUS / "cp1-functions" / name, home / name)
    for path in [home, *home.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    home.parent.chmod(0o755)
    before = victim_state(victim)
    files = [str(home / n) for n in ("tree_traps.py", "correct.py", "disk_fill.py")]
    proc = subprocess.run(
        ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
         "env", f"HOME={user.pw_dir}", f"TMPDIR={tmpdir}", str(world.markbook), "grade",
         "--course", str(course), "--exercise", "cp1-functions", "--json", "--jobs", "2",
         *files], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    results = {Path(r["file"]).name: r for r in json.loads(proc.stdout)}
    full_marks(results, ["tree_traps.py", "correct.py"], 10)
    assert (results["disk_fill.py"]["score"], results["disk_fill.py"]["status"]) == (0, "done")
    assert "wrote more than" in results["disk_fill.py"]["message"]
    assert "NOT bounded in total" in proc.stderr and "measured while it runs" in proc.stderr
    assert victim_state(victim) == before
    assert list(tmpdir.iterdir()) == []
