"""Helpers of the end-to-end tests, which run the real `markbook` binary.

The binary is $MARKBOOK, or `markbook` at the repository root; without it every test that needs it
is skipped (the tests still collect). Run them with the system interpreter, as root (markbook
then drops to the sandbox user, and the tests can check that none of its processes is left):

    /usr/bin/python3 -m pytest tests/e2e -q

Speed: the sample course is copied once, with low time limits written into the copy's
exercise.json files, and the corpus is graded in a few `--jobs 2` invocations (batches), each
run once per session and shared by the per-file tests.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "corpus"
SANDBOX_USER = "markbook-sandbox"

# Time limits written into the course copy (the defaults, 30 s and 10 s, would make the
# hostile cases slow). cp1 runs in well under a second; ds1 imports pandas.
LIMITS = {
    # 256 MiB: enough for is_prime, and the memory bomb reaches its MemoryError after
    # writing half as much as under the default 512, in time even when the machine is busy
    # with other tests (tools/run-tests runs several at once).
    "cp1-functions": {"timeout_s": 6, "test_timeout_s": 2, "memory_mb": 256},
    "ds1-sales": {"timeout_s": 20, "test_timeout_s": 5},
}
MARKBOOK_TIMEOUT = 600  # seconds for one markbook invocation, whatever it grades

# Which corpus files are graded together. The fork bomb gets a batch of its own, next to
# correct submissions, so that it also shows whether one sandbox can starve another.
BATCHES: dict[str, tuple[str, list[str]]] = {
    "ordinary": ("cp1-functions", [
        "correct.py", "partly_right.py", "scaffold.py", "syntax_error.py", "not_utf8.py",
        "missing_function.py", "function_in_cell.py", "plain.py", "infinite_loop.py",
        "hang_one_test.py", "too_large.py", "empty.py",
    ]),
    "hostile": ("cp1-functions", [
        "network.py", "memory_bomb.py", "output_flood.py", "disk_fill.py", "read_outside.py",
        "escape_write.py", "symlink_trap.py", "fake_report.py", "exit_early.py",
        "patch_pytest.py", "patch_testreport.py", "daemon.py",
    ]),
    "crosstalk": ("cp1-functions", ["fork_bomb.py", "correct.py", "plain.py"]),
    "ds1": ("ds1-sales", ["correct.py", "partly_right.py", "scaffold.py", "plain.py"]),
}

# Files made at test time rather than kept in the corpus, with their expectations.
GENERATED_EXPECTED = {
    "cp1-functions": {
        # correct.py padded with a comment to just over 1 MiB: refused before anything runs.
        "too_large.py": {"status": "done", "score": 0, "message_contains": ["1 MiB"],
                         "tests_passed": []},
        # An empty file defines nothing: the message names the missing function.
        "empty.py": {"status": "done", "score": 0, "message_contains": ["is_prime"],
                     "tests_passed": []},
    },
}

# The test plan of each exercise: test names in file order, their points and descriptions.
PLANS = {
    "cp1-functions": [
        ("test_small", 5, "Small numbers: 2 and 3 are prime, 0 and 1 are not."),
        ("test_edge", 5, "Edge cases: a negative number, a larger prime and its neighbour."),
    ],
    "ds1-sales": [
        ("test_load_sales_columns", 2,
         "load_sales returns a DataFrame with the right columns, in order, and their types."),
        ("test_load_sales_values", 2,
         "load_sales keeps the file's row order and computes revenue = units * unit_price."),
        ("test_revenue_by_region_two_regions", 2,
         "revenue_by_region on a few hidden rows: two regions, largest first."),
        ("test_revenue_by_region", 4,
         "revenue_by_region totals each region, largest first, as a named Series."),
        ("test_top_products", 2,
         "top_products ranks by total units, breaks ties alphabetically, and handles any n."),
    ],
}
MAX_POINTS = {"cp1-functions": 10, "ds1-sales": 12}

MARKER_GLOBS = [
    "/tmp/markbook-pwned-*", "/var/tmp/markbook-pwned-*", "/dev/shm/markbook-pwned-*",
    "/root/markbook-pwned-*", "/etc/markbook-pwned-*",
    f"/var/lib/{SANDBOX_USER}/markbook-pwned-*",
]


def load_expected(slug: str) -> dict[str, dict]:
    """expected.json of a corpus folder plus the generated files' expectations."""
    expected = json.loads((CORPUS / slug / "expected.json").read_text())
    expected.update(GENERATED_EXPECTED.get(slug, {}))
    return expected


def markbook_path() -> Path:
    return Path(os.environ.get("MARKBOOK") or REPO / "markbook").resolve()


@dataclass
class Run:
    """One markbook invocation and what it did."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    tmpdir: Path
    files: list[str] = field(default_factory=list)
    results: list[dict] | None = None  # parsed --json output, None when it did not parse
    parse_error: str = ""

    def describe(self) -> str:
        return (f"markbook {' '.join(self.args)}\nexit {self.returncode} after "
                f"{self.seconds:.1f}s\nstderr:\n{self.stderr[-3000:]}\nstdout:\n"
                f"{self.stdout[:3000]}")

    def by_name(self) -> dict[str, dict]:
        """Results keyed by file name, after checking they match the files given, in order."""
        assert self.results is not None, f"--json output is not JSON ({self.parse_error})\n" + \
            self.describe()
        assert [r.get("file") for r in self.results] == self.files, self.describe()
        return {Path(f).name: r for f, r in zip(self.files, self.results)}


class World:
    """Everything the tests set up once: the course copy, the host traps, the runs made."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.markbook = markbook_path()
        self.course = self._fresh_dir("mbe2e-course-", "/var/tmp")
        self.submissions = self._fresh_dir("mbe2e-subs-", "/var/tmp")
        self.victim = self._fresh_dir("mbe2e-victim-", "/var/tmp")
        (self.victim / "keep-me.txt").write_text("the symlink trap must not delete this\n")
        self.canaries: list[str] = []
        self.tmpdirs: list[Path] = []
        self.runs: dict[str, Run] = {}
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.root_canary: Path | None = None
        self._remove_markers()
        self._copy_course()
        self._plant_canaries()

    @staticmethod
    def _fresh_dir(prefix: str, parent: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        path.chmod(0o755)  # readable by anyone: only the sandbox may keep the sandbox out
        return path

    @staticmethod
    def _remove_markers() -> None:
        """Markers left by an earlier, failed session would fail this one for nothing."""
        for pattern in MARKER_GLOBS:
            parent = Path(pattern).parent
            if parent.is_dir():
                for path in parent.glob(Path(pattern).name):
                    path.unlink(missing_ok=True)

    def _copy_course(self) -> None:
        for part in ("exercises", "hidden"):
            shutil.copytree(REPO / part, self.course / part)
        for slug, limits in LIMITS.items():
            path = self.course / "exercises" / slug / "exercise.json"
            config = json.loads(path.read_text())
            config.update(limits)
            path.write_text(json.dumps(config, indent=2) + "\n")
        for path in self.course.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)

    def _plant_canaries(self) -> None:
        """Unique strings in places a submission must not read; none may reach the output."""
        solution = self.course / "hidden" / "cp1-functions" / "solution.py"
        canary = "solution-canary-" + secrets.token_hex(8)
        solution.write_text(solution.read_text() + f"# {canary}\n")
        self.canaries.append(canary)
        if os.geteuid() == 0 and Path("/root").is_dir():
            canary = "root-canary-" + secrets.token_hex(8)
            self.root_canary = Path("/root") / f"mbe2e-{secrets.token_hex(4)}.txt"
            self.root_canary.write_text(canary + "\n")
            self.canaries.append(canary)
        try:
            for line in Path("/etc/shadow").read_text().splitlines():
                if len(line) > 12:
                    self.canaries.append(line)
        except OSError:
            pass

    def fresh_tmpdir(self) -> Path:
        """A TMPDIR for one markbook invocation: the sandbox user must be able to pass it."""
        path = Path(tempfile.mkdtemp(prefix="mbe2e-tmp-", dir="/tmp"))
        path.chmod(0o711)
        self.tmpdirs.append(path)
        return path

    def submission(self, slug: str, name: str, batch: str) -> Path:
        """Copy (or make) one corpus file into the submissions folder, filling in templates."""
        folder = self.submissions / batch
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)
        dest = folder / name
        source = CORPUS / slug / name
        if name == "too_large.py":
            text = (CORPUS / slug / "correct.py").read_text()
            padding = ("# padding " + "x" * 69 + "\n") * (1024 * 1024 // 80 + 16)
            dest.write_text(text + padding)
            assert dest.stat().st_size > 1024 * 1024
        elif name == "empty.py":
            dest.write_text("")
        else:
            data = source.read_bytes()
            if b"PORT = 47823" in data or b'COURSE = "/work/main"' in data or \
                    b"VICTIM = " in data:
                text = data.decode()
                text = re.sub(r"(?m)^(\s*)PORT = \d+", rf"\g<1>PORT = {self.port}", text)
                text = re.sub(r'(?m)^(\s*)COURSE = ".*?"', rf'\g<1>COURSE = "{self.course}"',
                              text)
                text = re.sub(r'(?m)^(\s*)VICTIM = ".*?"', rf'\g<1>VICTIM = "{self.victim}"',
                              text)
                data = text.encode()
            dest.write_bytes(data)
        dest.chmod(0o644)
        return dest

    def run(self, args: list[str], files: list[str] | None = None,
            tmpdir: Path | None = None) -> Run:
        """Run markbook with `args` in the course copy, with a fresh TMPDIR."""
        tmpdir = tmpdir or self.fresh_tmpdir()
        env = dict(os.environ, TMPDIR=str(tmpdir))
        start = time.monotonic()
        proc = subprocess.run([str(self.markbook), *args], cwd=self.course, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=MARKBOOK_TIMEOUT)
        run = Run(args=args, returncode=proc.returncode,
                  stdout=proc.stdout.decode("utf-8", "replace"),
                  stderr=proc.stderr.decode("utf-8", "replace"),
                  seconds=time.monotonic() - start, tmpdir=tmpdir, files=files or [])
        if "--json" in args:
            try:
                run.results = json.loads(run.stdout)
            except ValueError as e:
                run.parse_error = str(e)
        return run

    def grade(self, slug: str, files: list[Path], jobs: int = 2, json_output: bool = True,
              course: Path | None = None) -> Run:
        args = ["grade", "--course", str(course or self.course), "--exercise", slug]
        if json_output:
            args.append("--json")
        args += ["--jobs", str(jobs), *map(str, files)]
        return self.run(args, files=[str(f) for f in files])

    def batch(self, name: str) -> Run:
        """Grade one of BATCHES, once per session."""
        if name not in self.runs:
            slug, names = BATCHES[name]
            files = [self.submission(slug, n, name) for n in names]
            self.runs[name] = self.grade(slug, files, jobs=2)
        return self.runs[name]

    def close(self) -> None:
        self.listener.close()
        if self.root_canary is not None:
            self.root_canary.unlink(missing_ok=True)
        for path in [self.course, self.submissions, self.victim, *self.tmpdirs]:
            _remove_tree(path)


def _remove_tree(path: Path) -> None:
    """rm -rf that also copes with folders a submission made unreadable."""
    if not path.exists():
        return
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if not os.path.islink(full):
                try:
                    os.chmod(full, 0o700)
                except OSError:
                    pass
    shutil.rmtree(path, ignore_errors=True)


def batch_of(slug: str, name: str) -> str:
    """The batch that grades corpus file `name` of `slug` (its first one)."""
    for batch, (batch_slug, names) in BATCHES.items():
        if batch_slug == slug and name in names:
            return batch
    raise KeyError(f"{slug}/{name} is in no batch: add it to BATCHES in conftest.py")


def sandbox_processes(tmpdirs: list[Path] | None = None) -> list[str]:
    """Processes of the sandbox user (`pgrep -a -u markbook-sandbox`), [] when there is none.

    With `tmpdirs`, only those of our runs: a process counts when it or an ancestor names one
    of the TMPDIRs we gave markbook (firejail's --private=...), or when it was orphaned to the
    host's init (a leak, whichever run made it). Other markbook runs on the same machine (a
    developer's, another test session) are left out.
    """
    proc = subprocess.run(["pgrep", "-a", "-u", SANDBOX_USER], capture_output=True, text=True)
    lines = proc.stdout.splitlines() if proc.returncode == 0 else []
    if tmpdirs is None:
        return lines
    needles = [str(t) for t in tmpdirs]

    def cmdline(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                "utf-8", "replace")
        except OSError:
            return ""

    def parent(pid: int) -> int:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            return int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return 0

    ours = []
    for line in lines:
        pid = int(line.split()[0])
        if parent(pid) == 1:
            ours.append(line)
            continue
        seen = 0
        while pid > 1 and seen < 64:
            if any(n in cmdline(pid) for n in needles):
                ours.append(line)
                break
            pid, seen = parent(pid), seen + 1
    return ours


def sandbox_user_exists() -> bool:
    return subprocess.run(["id", SANDBOX_USER], capture_output=True).returncode == 0
