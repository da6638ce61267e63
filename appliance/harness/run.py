"""markbook's harness entry point: `python3 -I -B .markbook/run.py collect|run --test-timeout N`.

Started by markbook inside the sandbox, in the staging directory (also $HOME), with the report
pipe on fd 3 and the nonce on fd 4 (CONTRIBUTING.md, "The grading path"). It writes, in order:
`sandbox`, `parse`, `load`, then `plan` records (collect) or `test` records (run), `tamper`
records when it finds any, and `end`. The process exits 0 once `end` is written, also when the
notebook did not parse or load (those records carry the verdict), and 2 with a message on
stderr when it was started wrongly (no fd 3 or 4, a bad nonce, bad arguments).
"""

import os

# Before pytest is imported: only the plugins named on the command line load.
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"

import argparse
import glob
import importlib.util
import sys
import time
import types
from typing import Any, Optional

REPORT_FD = 3
NONCE_FD = 4
LINK_FD = 5  # process isolation: the socket between the tests' and the student's sandboxes
HIDDEN_DIR = "hidden"  # the read-only folder of hidden tests in the staging dir
NONCE_MAX = 4096
NAMES_MAX = 64  # names in the `names` record (report.h REPORT_NAMES_MAX)
NAME_MAX = 128  # characters of one name (report.h REPORT_FIELD_MAX)
# `end` exitstatus when the harness stopped before pytest because the notebook did not parse or
# load: pytest's "interrupted", so a caller that only checks for 0 never mistakes it for a plan.
EXIT_STOPPED = 2


class UsageError(Exception):
    """The harness was started wrongly; the message says how."""


def read_nonce() -> str:
    """Read fd 4 to the end, close it and return the nonce (32 hex characters)."""
    data = b""
    try:
        while len(data) <= NONCE_MAX:
            chunk = os.read(NONCE_FD, NONCE_MAX)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(NONCE_FD)
    nonce = data.decode("ascii", "replace").strip()
    if len(nonce) != 32 or any(c not in "0123456789abcdefABCDEF" for c in nonce):
        raise UsageError("fd 4 did not carry a nonce (32 hex characters and a newline).")
    return nonce


def check_fds() -> None:
    """Fail clearly when run by hand, without markbook's descriptors."""
    for fd, what in ((REPORT_FD, "the report channel"), (NONCE_FD, "the nonce")):
        try:
            os.fstat(fd)
        except OSError:
            raise UsageError(
                f"fd {fd} ({what}) is not open. run.py is started by markbook with the report "
                f"pipe on fd {REPORT_FD} and the nonce on fd {NONCE_FD}; to try it by hand, "
                f"run: python3 -I -B .markbook/run.py run --test-timeout 5 "
                f"3>report.jsonl 4< <(echo 0123456789abcdef0123456789abcdef)") from None


def sandbox_record() -> dict[str, Any]:
    """The sandbox proof, read from /proc. Unreadable values are -1, and unreadable
    interfaces are ['?'], so that the proof fails rather than passes."""
    status: dict[str, str] = {}
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                status[key] = value.strip()
    except OSError:
        pass

    def number(key: str) -> int:
        try:
            return int(status[key].split()[0])
        except (KeyError, IndexError, ValueError):
            return -1

    try:
        with open("/proc/net/dev", encoding="ascii", errors="replace") as f:
            interfaces = [line.split(":")[0].strip() for line in f.readlines()[2:] if ":" in line]
    except OSError:
        interfaces = ["?"]
    return {"kind": "sandbox", "uid": os.getuid(), "no_new_privs": number("NoNewPrivs"),
            "seccomp": number("Seccomp"), "interfaces": interfaces}


def import_harness(harness_dir: str, name: str) -> types.ModuleType:
    """Import .markbook/<name>.py under a private name, so a hidden helper module called
    loader.py or plugin.py is not shadowed by the harness (or the other way round)."""
    spec = importlib.util.spec_from_file_location(
        f"_markbook_{name}", os.path.join(harness_dir, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


USAGE = ("usage: run.py collect|run|student|selftest|notebook --test-timeout N "
         "[--isolation shared|process] [--names NAME,...]")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """See USAGE; errors become UsageError. `student` and `run --isolation process` take the
    names of the `names` record of collect: the student's sandbox checks the notebook defines
    them, the tests' sandbox lists them in `submission.__all__`."""
    parser = argparse.ArgumentParser(prog="run.py", exit_on_error=False, add_help=False)
    parser.add_argument("mode", choices=("collect", "run", "student", "selftest", "notebook"))
    parser.add_argument("--test-timeout", type=float, required=True)
    parser.add_argument("--isolation", choices=("shared", "process"), default="shared")
    parser.add_argument("--names", default="")
    try:
        args = parser.parse_args(argv)
    except (argparse.ArgumentError, SystemExit) as e:
        raise UsageError(f"{USAGE} ({e})") from None
    if not args.test_timeout > 0:
        raise UsageError("--test-timeout must be a number of seconds above 0.")
    args.names = [n for n in args.names.split(",") if n]
    if not all(n.isidentifier() for n in args.names):
        raise UsageError("--names takes Python names separated by commas.")
    return args


def scaffold_names(module: types.ModuleType, needed: set[str]) -> list[str]:
    """The `names` record: every name the tests import that the scaffold defines, whatever
    it is (a function, a class, a variable of the setup cell or of a cell), then the other
    functions and classes the scaffold defines. In process isolation the student's sandbox
    loads the notebook checking that it defines each of them, so a notebook without one
    fails with the loader's message. At most NAMES_MAX ASCII names of at most NAME_MAX
    characters (markbook's bounds); a name beyond them is still found, by the tests' first
    use of it, without the loader's check."""
    defined = vars(module)

    def fits(name: str) -> bool:
        return name.isascii() and name.isidentifier() and len(name) <= NAME_MAX

    imported = sorted(n for n in needed if n in defined and fits(n))
    own = sorted(name for name, value in defined.items()
                 if not name.startswith("_") and fits(name) and name not in imported
                 and isinstance(value, (types.FunctionType, type))
                 and getattr(value, "__module__", None) == module.__name__)
    return (imported + own)[:NAMES_MAX]


def hidden_sources(hidden: str) -> list[str]:
    """The Python files of the hidden folder, subfolders included (tests, conftest.py,
    helpers): what they import from `submission` is what the notebook must define. Not
    hidden/submission.py, the submission's own text that markbook puts there to be read."""
    own = os.path.join(hidden, "submission.py")
    return sorted(path for path in glob.glob(os.path.join(hidden, "**", "*.py"), recursive=True)
                  if path != own)


def pytest_args(mode: str, timeout: float, hidden: str) -> list[str]:
    """pytest's command line: no cache, the read-only hidden/ folder as the only place tests,
    conftest.py files and configuration come from (the notebook may write files into the
    staging dir above it, and none of them may be read). pytest_timeout comes in through
    `plugins=` (not `-p`): the module imported before the notebook ran, and no "already
    imported" warning."""
    args = [hidden, f"--timeout={timeout:g}", "--timeout-method=signal",
            "-p", "no:cacheprovider", "-q", f"--rootdir={hidden}", f"--confcutdir={hidden}",
            "-c", os.devnull]
    # Collecting the plan must see every test; grading keeps going past a test file that
    # fails to import, so the other files' tests still count.
    args.append("--collect-only" if mode == "collect" else "--continue-on-collection-errors")
    return args


def main(argv: list[str]) -> int:
    """Run the grading path; see the module docstring for exit codes."""
    args = parse_args(argv)
    check_fds()
    nonce = read_nonce()
    os.set_inheritable(REPORT_FD, False)  # processes the notebook starts do not get fd 3
    staging = os.getcwd()
    harness_dir = os.path.dirname(os.path.abspath(__file__))

    # The stand-in marimo must win over any other; once imported it stays in sys.modules, and
    # the harness folder leaves sys.path so it shadows none of the course's modules.
    sys.path.insert(0, harness_dir)
    importlib.import_module("marimo")
    sys.path.remove(harness_dir)
    sys.path.insert(0, staging)
    loader = import_harness(harness_dir, "loader")
    plugin = import_harness(harness_dir, "plugin")
    emit = plugin.make_emitter(REPORT_FD, nonce)
    exit_now = os._exit

    def finish(exitstatus: int) -> int:
        # Output first: markbook ends the run as soon as it reads the end record.
        sys.stdout.flush()
        sys.stderr.flush()
        emit({"kind": "end", "exitstatus": int(exitstatus)})
        # Leave now: a notebook's lingering threads or atexit handlers must not hold the run.
        exit_now(0)
        return 0

    emit(sandbox_record())
    if args.mode == "selftest":  # the sandbox proof alone: is firejail in force here?
        return finish(0)
    if args.mode == "run" and args.isolation == "process":
        return finish(run_tests_side(args, staging, harness_dir, plugin, emit))
    parsed = loader.parse_submission(loader.SUBMISSION)
    emit({"kind": "parse", "ok": parsed.ok, "message": parsed.message, "flags": parsed.flags})
    if not parsed.ok:
        return finish(EXIT_STOPPED)

    if args.mode == "student":
        run_student_side(args, harness_dir, loader, parsed, emit)
        return finish(0)
    if args.mode == "notebook":  # the publish gate's look at the scaffold; nothing runs
        tests = hidden_sources(os.path.join(staging, HIDDEN_DIR))
        emit({"kind": "notebook", **loader.notebook_shape(parsed.tree,
                                                          loader.needed_names(tests))})
        return finish(0)

    # pytest, and what it will check against, before any student code runs.
    import pytest
    import pytest_timeout
    snapshots = plugin.take_snapshots()
    pytest_main = pytest.main

    hidden = os.path.join(staging, HIDDEN_DIR)
    tests = hidden_sources(hidden)
    # The scaffold's names (--names, from the plan) and the tests' imports: found the same
    # way as in process isolation, functions left in cells included.
    needed = loader.needed_names(tests)
    loaded = loader.load_notebook(loader.SUBMISSION, parsed.tree, set(args.names) | needed)
    emit({"kind": "load", "ok": loaded.ok, "message": loaded.message})
    if not loaded.ok:
        return finish(EXIT_STOPPED)
    if args.mode == "collect":
        emit({"kind": "names", "names": scaffold_names(loaded.module, needed)})

    report = plugin.make_plugin(args.mode, emit, snapshots, loaded.module)
    exitstatus = int(pytest_main(pytest_args(args.mode, args.test_timeout, hidden),
                                 plugins=[pytest_timeout, report]))
    for error in report.plan_errors():  # the plan records carry them too, as text points
        print(f"markbook: {error}", file=sys.stderr)
    return finish(exitstatus)


def run_tests_side(args: argparse.Namespace, staging: str, harness_dir: str,
                   plugin: types.ModuleType, emit: Any) -> int:
    """Process isolation, the tests' sandbox: no notebook here; `submission` is proxy.py's
    module, whose names live in the student's sandbox. Returns pytest's exit status."""
    import pytest
    import pytest_timeout
    snapshots = plugin.take_snapshots()
    codec = import_harness(harness_dir, "codec")
    wire = import_harness(harness_dir, "wire")
    proxy = import_harness(harness_dir, "proxy")
    # The submission's text may be staged here for source checks; it is never imported.
    module, notebook = proxy.make_module(LINK_FD, args.names, codec, wire, args.test_timeout,
                                         os.path.join(staging, "submission.py"))
    sys.modules["submission"] = module
    report = plugin.make_plugin(args.mode, emit, snapshots, module)
    hidden = os.path.join(staging, HIDDEN_DIR)
    stopped = []

    class Notebook:
        """The notebook's worker around the tests."""

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtestloop(self, session: pytest.Session) -> Optional[bool]:
            """Before the first test: the notebook has loaded, or no test runs at all."""
            try:
                notebook.connect()
            except proxy.LoadFailed:
                stopped.append(True)
                return True  # the student's sandbox reports why
            return None

        @pytest.hookimpl(hookwrapper=True, tryfirst=True)
        def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
            """Outside pytest-timeout's clock: a worker the last test left behind is replaced
            first; then each call into the notebook may take what is left of the test's time
            limit, so its own message ("did not return within") comes before pytest-timeout's,
            which has a second more."""
            notebook.before_test()
            notebook.deadline = time.monotonic() + args.test_timeout
            try:
                yield
            finally:
                notebook.deadline = None

    status = pytest.main(pytest_args(args.mode, args.test_timeout + 1, hidden),
                         plugins=[pytest_timeout, report, Notebook()])
    return EXIT_STOPPED if stopped else int(status)


def run_student_side(args: argparse.Namespace, harness_dir: str, loader: types.ModuleType,
                     parsed: Any, emit: Any) -> None:
    """Process isolation, the student's sandbox: load the notebook in a worker process and
    answer the tests' calls until they are done. The `load` record comes from here, written
    by the supervisor, which never runs the notebook's code."""
    codec = import_harness(harness_dir, "codec")
    wire = import_harness(harness_dir, "wire")
    student = import_harness(harness_dir, "student")
    names = set(args.names)

    def report(ok: bool, message: str) -> None:
        emit({"kind": "load", "ok": ok, "message": message})

    student.main(LINK_FD, lambda: loader.load_notebook(loader.SUBMISSION, parsed.tree, names),
                 codec, wire, report, REPORT_FD)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except UsageError as e:
        print(f"run.py: {e}", file=sys.stderr)
        sys.exit(2)
