"""Parse and load a student's notebook (submission.py) without marimo, using `ast`.

A marimo file runs like `import submission` would under marimo: the setup block(s) and the
`@app.function` / `@app.class_definition` definitions, in file order, with original line
numbers. `@app.cell` cells do not run, unless the hidden tests need a name that is only defined
inside a cell: then the cells run in dependency order, as `marimo export script` would flatten
them. A plain Python file runs as a normal module.
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
import sys
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

SUBMISSION = "submission.py"
MODULE_NAME = "submission"
EXCEPTION_TEXT_MAX = 300

# Attribute names that only frame-walking code touches.
FRAME_ATTRS = frozenset(
    {"f_back", "f_locals", "f_globals", "f_code", "f_builtins", "tb_frame", "gi_frame",
     "cr_frame", "ag_frame"})
# Importing any of these modules (or a submodule) raises the flag next to it.
MODULE_FLAGS = {
    "pytest": "pytest", "_pytest": "pytest", "pytest_timeout": "pytest", "pluggy": "pytest",
    "gc": "gc", "inspect": "inspect", "ctypes": "ctypes", "_ctypes": "ctypes",
    "importlib": "__import__", "signal": "signal", "_signal": "signal",
    "socket": "socket", "_socket": "socket", "subprocess": "subprocess",
    "_posixsubprocess": "subprocess", "multiprocessing": "subprocess", "atexit": "atexit",
}
# Using any of these dotted names (after resolving import aliases) raises the flag next to it.
NAME_FLAGS = {
    "sys.modules": "sys.modules", "sys._getframe": "sys._getframe",
    "sys._current_frames": "sys._getframe", "os._exit": "os._exit", "posix._exit": "os._exit",
    "exec": "exec", "eval": "eval", "compile": "compile", "__import__": "__import__",
    "builtins.exec": "exec", "builtins.eval": "eval", "builtins.compile": "compile",
    "builtins.__import__": "__import__", "__builtins__": "builtins",
    "builtins.__dict__": "builtins", "os.system": "subprocess", "os.popen": "subprocess",
}
# os functions that start or replace processes: os.fork, os.spawnv, os.execv, os.posix_spawn...
PROCESS_PREFIXES = ("os.fork", "os.spawn", "os.exec", "os.posix_spawn")


@dataclass
class ParseResult:
    """The outcome of parsing submission.py: the `parse` record plus the tree for the loader."""

    ok: bool
    message: str
    flags: list[str] = field(default_factory=list)
    tree: Optional[ast.Module] = None


@dataclass
class LoadResult:
    """The outcome of loading: the `load` record plus the module when it loaded."""

    ok: bool
    message: str
    module: Optional[types.ModuleType] = None


def parse_submission(path: str) -> ParseResult:
    """Read and parse `path` without running it. Never raises for a bad file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return ParseResult(False, f"{SUBMISSION} cannot be read: {e.strerror}.")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return ParseResult(
            False, f"{SUBMISSION} is not UTF-8 text (byte 0x{data[e.start]:02x} on line "
            f"{line}). Save the notebook as UTF-8 and upload it again.")
    source = source.removeprefix("\ufeff")
    try:
        tree = ast.parse(source, filename=SUBMISSION)
    except SyntaxError as e:
        return ParseResult(False, f"line {e.lineno}: {e.msg}" if e.lineno else e.msg)
    except ValueError:
        return ParseResult(False, f"{SUBMISSION} contains a NUL byte: it is not a Python "
                           "text file. Upload the notebook's .py file.")
    except (RecursionError, MemoryError):
        return ParseResult(False, f"{SUBMISSION} is nested too deeply to be parsed.")
    return ParseResult(True, "", integrity_flags(tree), tree)


def integrity_flags(tree: ast.AST) -> list[str]:
    """Sorted unique flags for things honest solutions do not need; reads the AST only."""
    aliases: dict[str, str] = {}  # local name -> dotted name it stands for
    flags: set[str] = set()

    def flag_module(name: str) -> None:
        top = name.split(".")[0]
        if top in MODULE_FLAGS:
            flags.add(MODULE_FLAGS[top])

    def flag_name(dotted: str) -> None:
        if dotted in NAME_FLAGS:
            flags.add(NAME_FLAGS[dotted])
        elif dotted.startswith(PROCESS_PREFIXES):
            flags.add("subprocess")

    # Aliases first, so a use above its import (in another cell) still resolves.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                flag_module(a.name)
                if a.asname:
                    aliases[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            flag_module(node.module)
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                flag_name(f"{node.module}.{a.name}")

    def dotted(node: ast.expr) -> Optional[str]:
        if isinstance(node, ast.Name):
            return aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = dotted(node)
            if name:
                flag_name(name)
        if isinstance(node, ast.Attribute):
            if node.attr in FRAME_ATTRS:
                flags.add("frame attributes")
            if not isinstance(node.ctx, ast.Load) and dotted(node.value) == "builtins":
                flags.add("builtins")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("setattr", "delattr") and node.args
              and dotted(node.args[0]) in ("builtins", "__builtins__")):
            flags.add("builtins")
    return sorted(flags)


def needed_names(paths: Iterable[str]) -> set[str]:
    """Names the hidden test files take from `submission` (`from submission import a` and
    `import submission` + `submission.a`). Files that do not parse are skipped."""
    names: set[str] = set()
    for path in paths:
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
        except (OSError, SyntaxError, ValueError):
            continue
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == MODULE_NAME and not node.level:
                names.update(a.name for a in node.names if a.name != "*")
            elif isinstance(node, ast.Import):
                modules.update(a.asname or a.name for a in node.names if a.name == MODULE_NAME)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules):
                names.add(node.attr)
    return names


def _is_app_attr(node: ast.expr, apps: set[str], attr: str) -> bool:
    """True for `app.<attr>` and `app.<attr>(...)`, where app is a marimo App."""
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Attribute) and node.attr == attr
            and isinstance(node.value, ast.Name) and node.value.id in apps)


@dataclass
class _Cell:
    """One `@app.cell`: refs are its parameters, defs the names it returns."""

    index: int
    refs: list[str]
    defs: list[str]
    body: list[ast.stmt]
    binds: set[str]


def _make_cell(index: int, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> _Cell:
    """Split a cell function into refs, defs and the body that runs when flattened."""
    args = fn.args
    refs = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    body, defs = list(fn.body), []
    if body and isinstance(body[-1], ast.Return):
        value = body.pop().value
        elts = value.elts if isinstance(value, ast.Tuple) else [value] if value else []
        defs = [e.id for e in elts if isinstance(e, ast.Name)]
    binds = set()
    for stmt in body:  # names bound at the cell's top level, for the error message
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            binds.add(stmt.name)
        for node in ast.walk(stmt) if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else ():
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                binds.add(node.id)
    return _Cell(index, refs, defs, body, binds)


def _split_marimo(tree: ast.Module) -> Optional[tuple[list[ast.stmt], list[_Cell]]]:
    """For a marimo file, the statements an import runs and the cells; None if not marimo."""
    aliases = {a.asname or a.name for s in tree.body if isinstance(s, ast.Import)
               for a in s.names if a.name == "marimo"}
    apps = {t.id for s in tree.body if isinstance(s, ast.Assign)
            and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute)
            and s.value.func.attr == "App" and isinstance(s.value.func.value, ast.Name)
            and s.value.func.value.id in aliases
            for t in s.targets if isinstance(t, ast.Name)}
    if not apps:
        return None
    body: list[ast.stmt] = []
    cells: list[_Cell] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import) and any(a.name == "marimo" for a in stmt.names):
            body.append(stmt)  # binds the alias to the stand-in marimo
        elif isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in apps for t in stmt.targets):
            body.append(stmt)  # `app` exists, so stray references to it work
        elif (isinstance(stmt, (ast.With, ast.AsyncWith)) and len(stmt.items) == 1
              and _is_app_attr(stmt.items[0].context_expr, apps, "setup")):
            body.extend(stmt.body)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kind = "class_definition" if isinstance(stmt, ast.ClassDef) else "function"
            marked = [d for d in stmt.decorator_list if _is_app_attr(d, apps, kind)]
            if marked:
                stmt = copy.copy(stmt)
                stmt.decorator_list = [d for d in stmt.decorator_list if d is not marked[0]]
                body.append(stmt)
            elif not isinstance(stmt, ast.ClassDef) and any(
                    _is_app_attr(d, apps, "cell") for d in stmt.decorator_list):
                cells.append(_make_cell(len(cells), stmt))
    return body, cells


def notebook_shape(tree: ast.Module, needed: set[str]) -> dict[str, Any]:
    """The `notebook` record for the publish gate, from the tree alone: whether the file is
    a marimo notebook (`app = marimo.App(...)`), and which of the `needed` names it does not
    define at the top level (an `@app.function`, an `@app.class_definition` or the setup
    cell), so that they could only be found by running its cells."""
    split = _split_marimo(tree)
    if split is None:
        return {"marimo": False, "outside": []}
    top: set[str] = set()
    for stmt in split[0]:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            top.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        else:
            top.update(n.id for n in ast.walk(stmt)
                       if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return {"marimo": True, "outside": sorted(needed - top)}


def _exception_message(e: BaseException, abs_path: str) -> str:
    """'The notebook raised X on line N while loading: text', N from the last frame of the
    notebook in the traceback."""
    line = None
    for frame, lineno in traceback.walk_tb(e.__traceback__):
        if frame.f_code.co_filename in (SUBMISSION, abs_path):
            line = lineno
    text = str(e)
    if len(text) > EXCEPTION_TEXT_MAX:
        text = text[:EXCEPTION_TEXT_MAX] + "..."
    where = f" on line {line}" if line else ""
    return f"The notebook raised {type(e).__name__}{where} while loading" + (
        f": {text}" if text else ".")


def _run(body: list[ast.stmt], namespace: dict[str, Any]) -> None:
    """Compile statements under the notebook's file name (so tracebacks point at the
    student's lines) and run them; top-level `await` (async setup, async cells) is allowed."""
    code = compile(ast.Module(body=body, type_ignores=[]), SUBMISSION, "exec",
                   flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    result = eval(code, namespace)
    if inspect.iscoroutine(result):
        import asyncio  # only for notebooks with top-level await: it takes 50 ms to import
        asyncio.run(result)


def _cell_order(cells: list[_Cell]) -> list[_Cell]:
    """Cells in dependency order (a cell after the cells defining its refs), file order
    otherwise; cells on a cycle are left out, as marimo refuses to run them."""
    definer: dict[str, int] = {}
    for cell in cells:
        for name in cell.defs:
            definer.setdefault(name, cell.index)
    deps = {c.index: {definer[r] for r in c.refs if r in definer} - {c.index} for c in cells}
    done: list[_Cell] = []
    pending = list(cells)
    while True:
        ready = [c for c in pending if deps[c.index] <= {d.index for d in done}]
        if not ready:
            return done
        done.append(ready[0])
        pending.remove(ready[0])


def _run_cells(cells: list[_Cell], module: types.ModuleType,
               abs_path: str) -> tuple[dict[str, Any], dict[int, str]]:
    """Run the cells flattened, starting from the module's namespace. Returns what they
    defined and, per cell that did not run, why not."""
    env = dict(vars(module))
    order = _cell_order(cells)
    ordered = {c.index for c in order}
    why_not = {c.index: "its cell is part of a cycle" for c in cells if c.index not in ordered}
    for cell in order:
        missing = [r for r in cell.refs if r not in env]
        if missing:
            why_not[cell.index] = f"its cell needs {missing[0]}, which no cell defines"
            continue
        before = set(env)
        try:
            _run(cell.body, env)
        except BaseException as e:  # also SystemExit: a cell must not end the harness
            why_not[cell.index] = "its cell failed: " + _exception_message(e, abs_path)
            for name in cell.defs:  # dependents must not see a half-run cell
                if name not in before:
                    env.pop(name, None)
    return env, why_not


def _missing_message(missing: list[str], marimo: bool, cells: list[_Cell],
                     why_not: dict[int, str]) -> str:
    """Tell the student which name the tests could not find and how to fix it."""
    name = missing[0]
    if not marimo:
        text = (f"{name} is not defined at the top level of {SUBMISSION}. "
                f"Define {name} at the top level of the file.")
    else:
        text = (f"{name} is not defined at the top level of the notebook. Make {name} a "
                f"top-level function (marimo: @app.function): move what it uses into the "
                f"setup cell.")
        for cell in cells:
            if name in cell.binds or name in cell.defs:
                reason = why_not.get(cell.index)
                text = (f"{name} is defined inside a cell, so it cannot be imported"
                        + (f" ({reason})" if reason else "") + f". Make {name} a top-level "
                        f"function (marimo: @app.function): move what it uses into the setup "
                        f"cell.")
                break
    if len(missing) > 1:
        text += " Also missing: " + ", ".join(missing[1:]) + "."
    return text


def load_notebook(path: str, tree: ast.Module, needed: set[str]) -> LoadResult:
    """Run the notebook parsed as `tree` as module `submission` (registered in sys.modules)
    and check it defines every name in `needed`. Never raises for a bad notebook."""
    abs_path = os.path.abspath(path)
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = abs_path
    sys.modules[MODULE_NAME] = module
    split = _split_marimo(tree)
    body, cells = split if split else (tree.body, [])
    try:
        _run(body, vars(module))
    except SyntaxError as e:  # compile-time errors the parser lets through (`await`, ...)
        return LoadResult(False, f"line {e.lineno}: {e.msg}" if e.lineno else e.msg)
    except BaseException as e:  # SystemExit from the notebook is a load failure too
        return LoadResult(False, _exception_message(e, abs_path))
    missing = sorted(n for n in needed if not hasattr(module, n))
    if not missing:
        return LoadResult(True, "", module)
    env, why_not = _run_cells(cells, module, abs_path) if cells else ({}, {})
    found = [n for n in missing if n in env]
    for name in found:
        setattr(module, name, env[name])
    still = [n for n in missing if n not in env]
    if still:
        return LoadResult(False, _missing_message(still, split is not None, cells, why_not))
    return LoadResult(True, f"{', '.join(found)} ran inside a cell (the tests found it by "
                      f"running the notebook's cells). Make {found[0]} a top-level function "
                      f"(marimo: @app.function) so it can be imported.", module)
