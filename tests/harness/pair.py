"""Run the harness in process isolation as markbook does, without firejail: `run.py student`
in one staging directory and `run.py run --isolation process` in another, linked by a socket
pair on fd 5, each with its own report pipe (fd 3) and nonce (fd 4)."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from conftest import HARNESS, NONCE, PYTHON, Report, finish_run


def _start(staging: Path, argv: list[str], link: socket.socket) -> tuple[Any, int, list[bytes],
                                                                          threading.Thread]:
    env = {"HOME": str(staging), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "TMPDIR": str(staging / ".tmp"), "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(staging / ".tmp" / "mpl")}
    (staging / ".tmp").mkdir(exist_ok=True)
    report_r, report_w = os.pipe()
    nonce_r, nonce_w = os.pipe()
    link_fd = link.fileno()

    def child_fds() -> None:
        # Out of the way first: any of the three may be fd 3, 4 or 5 already.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in (report_w, nonce_r, link_fd)]
        for target, fd in zip((3, 4, 5), high):
            os.dup2(fd, target)
            os.close(fd)

    proc = subprocess.Popen([PYTHON, "-I", "-B", ".markbook/run.py", *argv], cwd=staging,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            pass_fds=(3, 4, 5), preexec_fn=child_fds)
    os.close(report_w)
    os.close(nonce_r)
    os.write(nonce_w, (NONCE + "\n").encode())
    os.close(nonce_w)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(
        lambda: os.read(report_r, 65536), b"")))
    reader.start()
    return proc, report_r, chunks, reader


@dataclass
class Pair:
    """Both sides' reports of one run."""

    tests: Report
    student: Report
    seconds: float

    def outcomes(self) -> dict[str, str]:
        """test name -> outcome."""
        return {r["name"]: r["outcome"] for r in self.tests.all("test")}

    def test(self, name: str) -> dict[str, Any]:
        """The `test` record of the test called `name`."""
        found = [r for r in self.tests.all("test") if r["name"] == name]
        assert len(found) == 1, (name, self.tests.records, self.tests.stderr)
        return found[0]

    def explain(self) -> str:
        """Everything both sides said, for an assertion message."""
        return (f"tests: {self.tests.records}\n{self.tests.stdout[-3000:]}\n"
                f"{self.tests.stderr[-3000:]}\nstudent: {self.student.records}\n"
                f"{self.student.stderr[-3000:]}")


def stage_pair(root: Path, submission: str, tests: dict[str, str],
               data: Optional[dict[str, str]] = None, source_copy: bool = True) -> tuple[Path,
                                                                                          Path]:
    """Two staging directories like markbook's: the student's (the harness, submission.py,
    data files) and the tests' (the harness, hidden/ and, when `source_copy`, the
    submission's text as submission.py for source checks)."""
    student, tests_dir = root / "student", root / "tests"
    text = textwrap.dedent(submission)
    for staging in (student, tests_dir):
        staging.mkdir(parents=True)
        shutil.copytree(HARNESS, staging / ".markbook",
                        ignore=shutil.ignore_patterns("__pycache__"))
    (student / "submission.py").write_text(text)
    if source_copy:
        (tests_dir / "submission.py").write_text(text)
    for name, content in (data or {}).items():
        (student / name).write_text(content)
    (tests_dir / "hidden").mkdir()
    for name, source in tests.items():
        (tests_dir / "hidden" / name).write_text(textwrap.dedent(source))
    return student, tests_dir


def run_pair(student: Path, tests: Path, names: list[str], timeout: float = 3,
             wall: float = 120) -> Pair:
    """Run both sides linked, as markbook does in process isolation."""
    ours, theirs = socket.socketpair()
    start = time.monotonic()
    names_arg = ["--names", ",".join(names)]
    s = _start(student, ["student", "--test-timeout", f"{timeout:g}", *names_arg], theirs)
    t = _start(tests, ["run", "--test-timeout", f"{timeout:g}", "--isolation", "process",
                       *names_arg], ours)
    ours.close()
    theirs.close()
    tests_report = finish_run(*t, wall)
    student_report = finish_run(*s, wall)  # it ends when the tests' side closes the link
    return Pair(tests_report, student_report, time.monotonic() - start)


def grade(root: Path, submission: str, tests: dict[str, str], names: list[str],
          timeout: float = 3, wall: float = 120, **kwargs: Any) -> Pair:
    """stage_pair() and run_pair() in one."""
    student, tests_dir = stage_pair(root, submission, tests, **kwargs)
    return run_pair(student, tests_dir, names, timeout, wall)
