"""Helpers for the harness tests: stage a submission with hidden tests, run the harness as
markbook does (fd 3 = report pipe, fd 4 = nonce pipe) and parse its report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "appliance" / "harness"
PYTHON = "/usr/bin/python3"
NONCE = "0123456789abcdef0123456789abcdef"


@dataclass
class Report:
    """What one harness run produced."""

    records: list[dict[str, Any]]  # records carrying the run's nonce, in order
    others: list[Any]  # every other line of fd 3 (parsed JSON, or the raw text)
    returncode: int
    stdout: str
    stderr: str

    def kinds(self) -> list[str]:
        """The kinds of the records, in order."""
        return [r["kind"] for r in self.records]

    def one(self, kind: str) -> dict[str, Any]:
        """The only record of `kind`, without the nonce and kind fields."""
        found = [r for r in self.records if r["kind"] == kind]
        assert len(found) == 1, (kind, self.records, self.stderr)
        return {k: v for k, v in found[0].items() if k not in ("nonce", "kind")}

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every record of `kind`, without the nonce and kind fields."""
        return [{k: v for k, v in r.items() if k not in ("nonce", "kind")}
                for r in self.records if r["kind"] == kind]

    def outcomes(self) -> dict[str, str]:
        """nodeid -> outcome for every `test` record."""
        return {r["nodeid"]: r["outcome"] for r in self.all("test")}

    def test(self, nodeid: str) -> dict[str, Any]:
        """The `test` record of `nodeid`."""
        found = [r for r in self.all("test") if r["nodeid"] == nodeid]
        assert len(found) == 1, (nodeid, self.records)
        return found[0]


def run_harness(staging: Path, mode: str = "run", timeout: Union[int, float] = 2,
                fds: bool = True, wall: float = 60, names: str = "") -> Report:
    """Run `.markbook/run.py` in `staging` as markbook does and collect its report; `names`
    is the plan's `--names` (the scaffold's functions), as markbook passes it."""
    argv = [PYTHON, "-I", "-B", ".markbook/run.py", mode, "--test-timeout", str(timeout)]
    if names:
        argv += ["--names", names]
    env = {"HOME": str(staging), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "TMPDIR": str(staging / ".tmp"), "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(staging / ".tmp" / "mpl")}
    (staging / ".tmp").mkdir(exist_ok=True)
    if not fds:
        proc = subprocess.run(argv, cwd=staging, env=env, capture_output=True, text=True, errors="replace",
                              timeout=wall, stdin=subprocess.DEVNULL)
        return Report([], [], proc.returncode, proc.stdout, proc.stderr)
    report_r, report_w = os.pipe()
    nonce_r, nonce_w = os.pipe()

    def child_fds() -> None:
        os.dup2(report_w, 3)
        os.dup2(nonce_r, 4)

    proc = subprocess.Popen(argv, cwd=staging, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace",
                            pass_fds=(3, 4), preexec_fn=child_fds)
    os.close(report_w)
    os.close(nonce_r)
    os.write(nonce_w, (NONCE + "\n").encode())
    os.close(nonce_w)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(
        lambda: os.read(report_r, 65536), b"")))
    reader.start()
    return finish_run(proc, report_r, chunks, reader, wall)


def finish_run(proc: subprocess.Popen, report_r: int, chunks: list[bytes],
               reader: threading.Thread, wall: float) -> Report:
    """Wait for a harness process and parse what its report pipe carried."""
    try:
        stdout, stderr = proc.communicate(timeout=wall)
    finally:
        proc.kill()
        reader.join(wall)
        os.close(report_r)
    records, others = [], []
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            others.append(line)
            continue
        if isinstance(record, dict) and record.get("nonce") == NONCE:
            records.append(record)
        else:
            others.append(record)
    return Report(records, others, proc.returncode, stdout, stderr)


Stage = Callable[..., Path]


@pytest.fixture
def stage(tmp_path: Path) -> Stage:
    """`stage(submission, tests={name: source})`: a staging directory like markbook's, with a
    copy of the harness as .markbook/ and the tests in hidden/. Sources are dedented; bytes are written as they are."""

    def make(submission: Union[str, bytes], tests: Optional[dict[str, str]] = None) -> Path:
        staging = tmp_path / "stage"
        staging.mkdir()
        shutil.copytree(HARNESS, staging / ".markbook",
                        ignore=shutil.ignore_patterns("__pycache__"))
        data = submission if isinstance(submission, bytes) else textwrap.dedent(submission)
        (staging / "submission.py").write_bytes(
            data if isinstance(data, bytes) else data.encode())
        hidden = staging / "hidden"
        hidden.mkdir()
        for name, source in (tests or {}).items():
            (hidden / name).write_text(textwrap.dedent(source))
        return staging

    return make


def marimo_notebook(setup: str, *cells: str, header: str = "import marimo",
                    app: str = "marimo.App(width=\"medium\")") -> str:
    """A notebook the way marimo 0.13+ writes it: header, setup block, then the given
    top-level definitions and cells (already indented as marimo writes them)."""
    parts = [f'{header}\n\n__generated_with = "0.13.0"\napp = {app}\n\n', setup.strip("\n")]
    parts += ["\n\n\n" + textwrap.dedent(c).strip("\n") for c in cells]
    parts.append('\n\n\nif __name__ == "__main__":\n    app.run()\n')
    return "".join(parts)


SETUP = """
with app.setup:
    import marimo as mo
    import math
"""

IS_PRIME = """
@app.function
def is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))
"""

CASES_CELL = """
@app.cell
def _():
    cases = [(2, True), (4, False)]
    return (cases,)
"""

TEST_IS_PRIME = """
from submission import is_prime


def test_small():
    assert is_prime(2) is True
    assert is_prime(9) is False
"""
