"""The pytest plugin that writes markbook's report, and the report writer itself.

Records are JSON lines on the report descriptor (fd 3), each with the run's nonce; see
CONTRIBUTING.md, "The grading path". The plugin also looks for tampering: pytest's internals
replaced, its own hooks unhooked, or a plugin registered once collection started. This only
raises the bar for a submission that runs in the same process; the separate student sandbox is
the real fix.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import os
import sys
import types
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

if TYPE_CHECKING:
    import pytest

RECORD_MAX = 64 * 1024
MESSAGE_MAX = 500
DETAIL_MAX = 8 * 1024

Emit = Callable[[dict[str, Any]], None]

# Checked at every report: nothing but pytest itself has a reason to change these.
PYTEST_MODULES = (
    "pytest", "_pytest.runner", "_pytest.reports", "_pytest.outcomes", "_pytest.skipping",
    "_pytest.python", "_pytest.nodes", "_pytest.main", "_pytest.fixtures", "_pytest.config",
    "_pytest.capture", "_pytest.terminal", "_pytest._code.code", "pytest_timeout", "pluggy",
    "pluggy._hooks", "pluggy._callers", "pluggy._manager", "pluggy._result",
)
# Checked once each test has finished: a hidden test may monkeypatch these (input, os.getcwd)
# while it runs, and its teardown puts them back.
RUNTIME_MODULES = ("builtins", "os", "signal", "json", "json.encoder")
PYTEST_STARTUP_CHANGES = frozenset({
    "_pytest.config.Config._getini_unknown_type", "_pytest.config.Config.inifile",
    "_pytest.config.Config.invocation_dir", "_pytest.config.Config.rootdir",
    "_pytest.fixtures.FixtureRequest.fspath", "_pytest.main.Session.startdir",
    "_pytest.nodes.Node.fspath", "_pytest.terminal.TerminalReporter.startdir",
})


def _pytest_dir() -> str:
    """Where pytest's own code lives. pytest is imported here, not at the top, because the
    student's sandbox uses this module's report writer and has no pytest."""
    import pytest
    return os.path.dirname(os.path.dirname(pytest.Config.__init__.__code__.co_filename)) + os.sep


def clip(text: str, limit: int, keep_tail: bool = False) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, marked with '...'; tracebacks keep the tail,
    where the error is."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    if keep_tail:
        return "...\n" + data[len(data) - max(limit - 4, 0):].decode("utf-8", "ignore")
    return data[:max(limit - 3, 0)].decode("utf-8", "ignore") + "..."


def _clean(value: Any) -> Any:
    """Strings the C side's JSON parser accepts: no lone surrogates, no NUL bytes."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8").replace("\0", "\ufffd")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def make_emitter(fd: int, nonce: str) -> Emit:
    """A function writing one record per call to `fd`, with `nonce` and within RECORD_MAX.
    The fd, the nonce and the functions it uses live in this closure, not in module globals
    a submission could reach by name."""
    encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
    write = os.write

    def emit(record: dict[str, Any]) -> None:
        fields = {k: _clean(v) for k, v in record.items()}
        line = encode({"nonce": nonce, **fields}) + "\n"
        while len(line) > RECORD_MAX:  # shrink the longest string until the record fits
            key = max((k for k, v in fields.items() if isinstance(v, str) and k != "kind"),
                      key=lambda k: len(fields[k]), default=None)
            if key is None or not fields[key]:
                break
            excess = len(line) - RECORD_MAX
            fields[key] = clip(fields[key], max(len(fields[key].encode()) - excess - 64, 0))
            line = encode({"nonce": nonce, **fields}) + "\n"
        data = line.encode("ascii")
        while data:
            data = data[write(fd, data):]

    return emit


def _watchable(value: Any) -> bool:
    """Values whose replacement changes behaviour: code, classes, modules, descriptors."""
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type,
                              types.ModuleType, staticmethod, classmethod, property,
                              types.MethodType, types.WrapperDescriptorType))


def _code_of(value: Any) -> Any:
    """The code object behind a function, so `f.__code__ = ...` is noticed as well."""
    func = getattr(value, "__func__", value)
    return getattr(func, "__code__", None)


class Snapshot:
    """Identities of module attributes and class members, to compare against later."""

    def __init__(self, module_names: Iterable[str], with_classes: bool) -> None:
        self._entries: list[tuple[str, Any, str, Any, Any]] = []
        self._class_keys: list[tuple[str, type, frozenset[str]]] = []
        for name in module_names:
            module = sys.modules.get(name)
            if module is None:
                continue
            for key, value in list(vars(module).items()):
                if not _watchable(value):
                    continue
                self._entries.append((f"{name}.{key}", module, key, value, _code_of(value)))
                if with_classes and isinstance(value, type) and value.__module__ == name:
                    self._add_class(f"{name}.{key}", value)

    def _add_class(self, label: str, cls: type) -> None:
        """Watch every member of `cls`, and notice members added later."""
        self._class_keys.append((label, cls, frozenset(vars(cls))))
        for key, value in vars(cls).items():
            if _watchable(value):
                self._entries.append((f"{label}.{key}", cls, key, value, _code_of(value)))

    def diff(self) -> list[tuple[str, str, Any]]:
        """What differs from the snapshot: (label, 'X was replaced' sentence, new value)."""
        found = []
        for label, owner, key, value, code in self._entries:
            now = vars(owner).get(key, Snapshot)
            if now is Snapshot:
                found.append((label, f"{label} was deleted", None))
            elif now is not value:
                found.append((label, f"{label} was replaced", now))
            elif _code_of(now) is not code:
                found.append((label, f"the code of {label} was replaced", now))
        for label, cls, keys in self._class_keys:
            for key in sorted(set(vars(cls)) - keys):
                if _watchable(vars(cls)[key]):  # pytest marks classes with plain flags
                    found.append((f"{label}.{key}", f"{label}.{key} was added", vars(cls)[key]))
        return found

    def changes(self) -> list[str]:
        """What differs from the snapshot, as sentences."""
        return [message for _, message, _ in self.diff()]


def _pytest_startup_change(label: str, value: Any) -> bool:
    """True for the changes pytest's legacypath plugin makes to pytest's classes while pytest
    starts (after our first snapshot): known names, set to code from pytest's own package."""
    if label not in PYTEST_STARTUP_CHANGES:
        return False
    if isinstance(value, property):
        value = value.fget
    code = _code_of(value)
    return code is not None and code.co_filename.startswith(_pytest_dir())


def take_snapshots() -> tuple[Snapshot, Snapshot]:
    """Snapshot pytest's internals and the runtime; call before any student code runs."""
    for name in PYTEST_MODULES:
        importlib.import_module(name)
    return Snapshot(PYTEST_MODULES, True), Snapshot(RUNTIME_MODULES, False)


def _crash_line(report: Any) -> str:
    """The short crash line of a report: pytest's crash message, a skip reason, or the last
    line of the text."""
    longrepr = report.longrepr
    if longrepr is None:
        return str(getattr(report, "wasxfail", ""))
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    lines = [line for line in str(longrepr).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _detail(report: Any) -> str:
    """The longer text for the teacher: the traceback, or where a test was skipped."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return f"{longrepr[0]}:{longrepr[1]}: {longrepr[2]}"
    return str(report.longreprtext)


def combine(reports: list[Any]) -> tuple[str, Any]:
    """One outcome from a test's setup, call and teardown reports, and the report that
    explains it. `passed` needs a passing call and no failing setup or teardown."""
    by_when = {r.when: r for r in reports}
    for report in reports:
        if hasattr(report, "wasxfail"):
            if report.skipped:
                return "xfailed", report
            if report.passed and report.when == "call":
                teardown = by_when.get("teardown")
                if teardown is not None and teardown.failed:
                    return "error", teardown
                return "xpassed", report
    setup, call, teardown = (by_when.get(w) for w in ("setup", "call", "teardown"))
    if setup is not None and setup.failed:
        return "error", setup
    if setup is not None and setup.skipped:
        return "skipped", setup
    if call is None:
        return "error", setup if setup is not None else reports[-1]
    if call.failed:
        return "failed", call
    if teardown is not None and teardown.failed:
        return "error", teardown
    if call.skipped:
        return "skipped", call
    return "passed", call


def _points(item: Any) -> tuple[Any, Optional[str]]:
    """The points of `@pytest.mark.points(p)` (the closest marker: the function's, else its
    class's or module's), and an error when they are not a number above 0 with at most two
    decimals (markbook keeps points in hundredths). Invalid points come back as text (what the
    marker says), a value markbook never takes for points: it rejects the plan and names the
    test."""
    marker = item.get_closest_marker("points")
    if marker is None:
        return None, None
    value = marker.args[0] if marker.args else marker.kwargs.get("n")
    if (type(value) in (int, float) and math.isfinite(value) and value > 0
            and abs(value * 100 - round(value * 100)) < 1e-6 and len(marker.args) <= 1):
        return value, None
    written = ", ".join([repr(v) for v in marker.args]
                        + [f"{k}={v!r}" for k, v in marker.kwargs.items()])
    return written, (f"{item.nodeid}: @pytest.mark.points needs a number above 0 with at "
                     f"most two decimals, got points({written})")


def _function_id(item: Any) -> str:
    """The node id of the test function `item` is a case of: its own node id without the
    parametrization suffix ("test_x.py::test_sum[1-2]" -> "test_x.py::test_sum"). The cases of
    one function share its points."""
    original = getattr(item, "originalname", None)
    if isinstance(original, str) and original and item.nodeid.endswith(item.name):
        return item.nodeid[:len(item.nodeid) - len(item.name)] + original
    return str(item.nodeid)


def make_plugin(mode: str, emit: Emit, snapshots: tuple[Snapshot, Snapshot],
                submission: types.ModuleType) -> types.ModuleType:
    """The plugin object for `pytest.main(plugins=[...])`. Its hooks are closures, so its
    state (the writer, the snapshots) is not reachable as plain attributes."""
    internals, runtime = snapshots
    state: dict[str, Any] = {
        "names": {}, "reports": {}, "told": set(), "plan_errors": [],
        "collecting": False, "pm": None, "hooks": {}, "plugins": set(), "hookexec": None,
    }
    own_code = _code_of(emit)

    def tamper(message: str) -> None:
        if message not in state["told"]:
            state["told"].add(message)
            emit({"kind": "tamper", "message": message})

    def hook_changes() -> list[str]:
        """Hook implementations or plugins that differ from when collection started."""
        pm = state["pm"]
        if pm is None:
            return []
        found = []
        if pm._inner_hookexec is not state["hookexec"]:
            found.append("pluggy's hook runner (_inner_hookexec) was replaced")
        for name, (caller, exec_, impls) in state["hooks"].items():
            now = [(i, i.function) for i in caller.get_hookimpls()]
            if caller._hookexec is not exec_ or len(now) != len(impls) or any(
                    a[0] is not b[0] or a[1] is not b[1] for a, b in zip(now, impls)):
                found.append(f"the implementations of hook {name} were changed")
        extra = [p for p in pm.get_plugins() if id(p) not in state["plugins"]]
        if extra:
            found.append(f"plugin {extra[0]!r} was registered after collection started")
        return found

    def check(deep: bool) -> None:
        """Write a tamper record for each change; `deep` adds the runtime modules."""
        found = internals.changes() + hook_changes()
        if deep:
            found += runtime.changes()
        if sys.modules.get("submission") is not submission:
            found.append("sys.modules['submission'] was replaced")
        if _code_of(emit) is not own_code or namespace.pytest_runtest_logreport is not logreport:
            found.append("the report writer was replaced")
        for message in found:
            tamper(message)

    def pytest_configure(config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(p): the points this test function is worth "
                                           "(its parametrized cases share them)")

    def pytest_collection(session: pytest.Session) -> None:
        nonlocal internals
        # pytest changes some of its classes while it starts (legacypath); anything else that
        # changed since our first snapshot was the notebook, while it loaded.
        for label, message, value in internals.diff():
            if not _pytest_startup_change(label, value):
                tamper(message)
        internals = take_snapshots()[0]
        pm = session.config.pluginmanager
        state["pm"] = pm
        state["hookexec"] = pm._inner_hookexec
        state["plugins"] = {id(p) for p in pm.get_plugins()}
        state["hooks"] = {
            name: (caller, caller._hookexec, [(i, i.function) for i in caller.get_hookimpls()])
            for name, caller in vars(pm.hook).items() if hasattr(caller, "get_hookimpls")}
        state["collecting"] = True

    def pytest_plugin_registered(plugin: object, manager: Any) -> None:
        if state["collecting"]:
            tamper(f"plugin {plugin!r} was registered after collection started")

    def pytest_collection_finish(session: pytest.Session) -> None:
        check(deep=False)
        for item in session.items:
            state["names"][item.nodeid] = item.name
            if mode != "collect":
                continue
            points, error = _points(item)
            if error:
                state["plan_errors"].append(error)
            func = getattr(item, "function", None) or getattr(item, "obj", None)
            doc = inspect.getdoc(func) if callable(func) else None
            emit({"kind": "plan", "nodeid": item.nodeid, "name": item.name,
                  "function": _function_id(item), "description": (doc or "").strip(),
                  "points": points})

    def logreport(report: pytest.TestReport) -> None:
        check(deep=False)
        state["reports"].setdefault(report.nodeid, []).append(report)

    def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
        check(deep=True)
        reports = state["reports"].pop(nodeid, [])
        if not reports:
            return
        outcome, report = combine(reports)
        emit({"kind": "test", "nodeid": nodeid,
              "name": state["names"].get(nodeid, nodeid.split("::")[-1]),
              "outcome": outcome,
              "message": clip(_crash_line(report) if outcome != "passed" else "", MESSAGE_MAX),
              "detail": clip(_detail(report) if outcome != "passed" else "", DETAIL_MAX,
                             keep_tail=True),
              "duration": round(sum(float(r.duration) for r in reports), 6)})

    def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
        check(deep=True)

    def plan_errors() -> list[str]:
        """Invalid points markers seen while collecting the plan."""
        return list(state["plan_errors"])

    # A module object: hashable (pluggy needs that) and, like a plugin module, just hooks.
    namespace = types.ModuleType("markbook_report")
    hooks: dict[str, Any] = dict(
        pytest_configure=pytest_configure, pytest_collection=pytest_collection,
        pytest_plugin_registered=pytest_plugin_registered,
        pytest_collection_finish=pytest_collection_finish,
        pytest_runtest_logreport=logreport, pytest_runtest_logfinish=pytest_runtest_logfinish,
        pytest_sessionfinish=pytest_sessionfinish, plan_errors=plan_errors)
    vars(namespace).update(hooks)
    return namespace

