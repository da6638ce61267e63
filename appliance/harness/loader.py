"""Parse and load a student's notebook (submission.py) without marimo, using `ast`.

A marimo file runs like `import submission` would under marimo: every top-level statement, the
setup block(s) and the `@app.function` / `@app.class_definition` definitions (functions and
classes alike) included, in file order, with original line numbers. `@app.cell` cells do not
run, unless the tests need a name
that is only defined inside a cell: then the cells run in the order marimo would run them (a
cell after the cells defining the names its code reads), each dedented as marimo dedents cell
code, as `marimo export script` would flatten them. A plain Python file runs as a normal module.

Nothing here recurses on the notebook's syntax tree: a notebook nested deeper than MAX_NESTING
(or than Python's own parser allows) is refused with a sentence naming the line, since compiling
it would exhaust the interpreter's stack.
"""

from __future__ import annotations

import ast
import copy
import inspect
import io
import os
import re
import symtable
import sys
import tokenize
import traceback
import types
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

SUBMISSION = "submission.py"
MODULE_NAME = "submission"
EXCEPTION_TEXT_MAX = 300
# Deepest syntax tree the loader compiles. compile() on a tree recurses once per level and
# raises RecursionError near 930 levels with the default recursion limit; honest code stays
# far below 100.
MAX_NESTING = 400
# Python's own messages for code nested beyond its parser's or compiler's limits.
DEPTH_ERRORS = ("too many nested parentheses", "too many levels of indentation",
                "too many statically nested blocks", "f-string: expressions nested too deeply",
                "f-string: too many nested parenthesis")
# Attribute of the parsed tree carrying the notebook's text, for marimo's dedent of cells.
SOURCE_ATTR = "markbook_source"
_LINE_END = re.compile(r"\r\n|\r|\n")

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
# How many attributes after a name can still make a flagged dotted name (one more than the
# longest flag, for the prefixes).
FLAG_PARTS = max(n.count(".") for n in (*NAME_FLAGS, *PROCESS_PREFIXES)) + 1


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
    """Read and parse `path` without running it. Never raises for a bad file: a syntax error,
    text that is not UTF-8 and a notebook nested too deeply are each a ParseResult with ok
    False and a sentence for the student."""
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
        if e.msg in DEPTH_ERRORS:
            return ParseResult(False, too_deep_message(e.lineno, e.msg))
        return ParseResult(False, f"line {e.lineno}: {e.msg}" if e.lineno else e.msg)
    except ValueError:
        return ParseResult(False, f"{SUBMISSION} contains a NUL byte: it is not a Python "
                           "text file. Upload the notebook's .py file.")
    except (RecursionError, MemoryError):  # the parser's own stack ran out
        return ParseResult(False, too_deep_message(_busiest_line(source)))
    depth, line = nesting(tree)
    if depth > MAX_NESTING:
        return ParseResult(False, too_deep_message(line))
    setattr(tree, SOURCE_ATTR, source)
    return ParseResult(True, "", integrity_flags(tree), tree)


def too_deep_message(line: Optional[int], detail: str = "") -> str:
    """The sentence for a notebook nested too deeply to be graded."""
    what = detail or f"more than {MAX_NESTING} levels of expressions or blocks"
    where = f", line {line}" if line else ""
    return (f"The notebook is nested too deeply to be graded ({what}){where}. Split that code "
            f"into smaller steps, for example with intermediate variables or helper functions.")


def nesting(tree: ast.AST) -> tuple[int, Optional[int]]:
    """The depth of the deepest node of `tree` (the tree itself is 1) and the line of the
    first node found at that depth; walks with an explicit stack, so any depth is fine."""
    deepest, line = 0, None
    stack: list[tuple[ast.AST, int, Optional[int]]] = [(tree, 1, None)]
    while stack:
        node, depth, where = stack.pop()
        where = getattr(node, "lineno", where)
        if depth > deepest:
            deepest, line = depth, where
        stack.extend((child, depth + 1, where) for child in ast.iter_child_nodes(node))
    return deepest, line


# Tokens that chain an expression deeper without brackets (`a.b.c`, `1+1+1`, `- - 1`).
_CHAIN_NAMES = frozenset({"not", "and", "or", "lambda", "if", "else", "await", "is", "in"})


def _busiest_line(source: str) -> Optional[int]:
    """The first line of the statement with the most chaining tokens (operators other than
    brackets and commas, and `not`, `lambda`, ...): where a statement too deep for Python's
    parser most likely is. None when the text does not tokenize."""
    best, best_line, count, start = 0, None, 0, 1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if count > best:
                    best, best_line = count, start
                count, start = 0, tok.end[0] + 1
            elif tok.type == tokenize.OP and tok.string not in "()[]{},;:":
                count += 1
            elif tok.type == tokenize.NAME and tok.string in _CHAIN_NAMES:
                count += 1
    except (tokenize.TokenError, SyntaxError):
        return best_line
    return best_line


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

    def chain(node: ast.expr) -> tuple[Optional[str], list[str]]:
        """`a.b.c` as ("a" resolved through the aliases, ["b", "c"]); (None, []) for
        anything that is not a chain of attributes on a name. A loop, not recursion: chains
        can be long."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None, []
        return aliases.get(node.id, node.id), attrs[::-1]

    def dotted(node: ast.expr) -> Optional[str]:
        base, attrs = chain(node)
        return ".".join([base] + attrs) if base else None

    # Each chain is read once, from its outermost attribute, and only its first parts can
    # name a flag: linear in the size of the tree, however long a chain is.
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in inner:
            base, attrs = chain(node)
            if base:
                name = base
                flag_name(name)
                for attr in attrs[:FLAG_PARTS]:
                    name = f"{name}.{attr}"
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
    `import submission` + `submission.a`). Files that do not parse (too deep for the parser
    too) are skipped: pytest reports them."""
    names: set[str] = set()
    for path in paths:
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
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


# ---------------------------------------------------------------------------------------------
# marimo's dedent of cell code (marimo/_ast/dedent.py, smart_dedent and fixed_dedent, as
# marimo/_ast/parse.py applies it to each cell's body): every line loses the block's
# indentation, the lines inside a multi-line string too, except a string with a line indented
# less than the block, which is left as it is.


@dataclass
class _Block:
    """The text of a run of statements, dedented as marimo dedents cell code: `lines[i]` is
    line `first + i` of the file, `strip[i]` the characters taken from its start."""

    first: int
    lines: list[str]
    strip: list[int]
    reparse: bool  # a multi-line string lost indentation: the statements must be re-parsed

    @property
    def text(self) -> str:
        """The dedented text."""
        return "".join(self.lines)


def _source_lines(source: str) -> list[str]:
    """`source` split into lines with their ends, where the parser ends lines (at \\n, \\r\\n
    and \\r only: str.splitlines would also split at form feeds and Unicode separators, and
    the line numbers would drift)."""
    lines: list[str] = []
    start = 0
    for end in _LINE_END.finditer(source):
        lines.append(source[start:end.end()])
        start = end.end()
    lines.append(source[start:])
    return lines


def _utf8_slice(line: str, start: int, end: Optional[int] = None) -> str:
    """`line` cut at byte offsets (ast's col_offset counts UTF-8 bytes)."""
    return line.encode("utf-8")[start:end].decode("utf-8", "replace")


def _block(source_lines: list[str], body: list[ast.stmt]) -> Optional[_Block]:
    """The dedented text of the statements `body` (one cell's or the setup block's), cut
    from the file's lines; None when it cannot be cut out cleanly."""
    first, last = body[0], body[-1]
    if last.end_lineno is None or last.end_col_offset is None:
        return None
    rows = source_lines[first.lineno - 1:last.end_lineno]
    if len(rows) != last.end_lineno - first.lineno + 1:
        return None
    rows[-1] = _utf8_slice(rows[-1], 0, last.end_col_offset) + "\n"
    head = _utf8_slice(rows[0], 0, first.col_offset)
    if head.strip():  # the body starts on the header's line: `def _(): x = 1`
        if len(rows) > 1:
            return None
        return _Block(first.lineno, [_utf8_slice(rows[0], first.col_offset)], [len(head)],
                      False)
    base = len(head)
    protected, keep = _string_lines(rows, base)
    lines, strip = [], []
    reparse = False
    for i, line in enumerate(rows):
        n = 0
        while not keep[i] and n < base and n < len(line) and line[n] in " \t":
            n += 1
        reparse = reparse or (protected[i] and n > 0)
        lines.append(line[n:])
        strip.append(n)
    return _Block(first.lineno, lines, strip, reparse)


def _string_lines(raw: list[str], base: int) -> tuple[list[bool], list[bool]]:
    """For each line of `raw`: whether it is inside a multi-line string (after the string's
    first line), and whether it must keep its indentation because its string has a line
    indented less than `base` (marimo leaves such a string untouched)."""
    n = len(raw)
    protected, keep = [False] * n, [False] * n
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("".join(raw)).readline))
    except (tokenize.TokenError, SyntaxError):
        return protected, keep
    for tok in tokens:
        if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            inside = range(tok.start[0], min(tok.end[0], n))  # 0-based lines after the first
            for i in inside:
                protected[i] = True
            under = any(raw[i].strip() and len(raw[i]) - len(raw[i].lstrip()) < base
                        for i in inside)
            for i in inside:
                keep[i] = under
    return protected, keep


def _dedented(source_lines: Optional[list[str]], body: list[ast.stmt]) -> list[ast.stmt]:
    """`body` as marimo runs it: re-parsed from its dedented text when a multi-line string
    in it loses indentation, with the file's line numbers and columns; `body` itself when
    nothing changes or the text cannot be re-parsed to the same statements."""
    if not body or source_lines is None:
        return body
    block = _block(source_lines, body)
    if block is None or not block.reparse:
        return body
    try:
        tree = ast.parse(block.text, filename=SUBMISSION)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return body
    if len(tree.body) != len(body):
        return body
    for node in ast.walk(tree):
        if isinstance(node, (ast.expr, ast.stmt, ast.excepthandler, ast.arg, ast.keyword,
                             ast.alias, ast.pattern)):
            row = node.lineno - 1
            node.col_offset += block.strip[row] if row < len(block.strip) else 0
            if node.end_lineno is not None and node.end_col_offset is not None:
                end = node.end_lineno - 1
                node.end_col_offset += block.strip[end] if end < len(block.strip) else 0
    ast.increment_lineno(tree, block.first - 1)
    return tree.body


# ---------------------------------------------------------------------------------------------
# Cells: what each defines and reads, as marimo's ScopedVisitor (marimo/_ast/visitor.py) finds
# them, and the order marimo runs them in (marimo/_runtime/dataflow/__init__.py,
# topological_sort: parents first, ties in file order).


CellFunction = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class _Cell:
    """One `@app.cell`: `defs` are the names it binds at its top level except `_private` ones
    (marimo keeps those to the cell), `refs` the names its code reads that it does not bind
    (in nested functions and classes too), `binds` every name it binds (for messages)."""

    index: int
    line: int
    refs: set[str]
    defs: set[str]
    body: list[ast.stmt]
    binds: set[str]


def _is_private(name: str) -> bool:
    """marimo's is_local: `_x` is private to its cell, `__x` is not."""
    return name == "__" or (name.startswith("_") and not name.startswith("__"))


def _scope_names(text: Optional[str], body: list[ast.stmt]) -> tuple[set[str], set[str]]:
    """(binds, reads) of a cell's code: the names bound at its top level, and the global
    names it reads anywhere (nested scopes included) that it does not bind. From Python's
    own symbol table when `text` compiles to one, from the statements otherwise."""
    binds: set[str] = set()
    reads: set[str] = set()
    try:
        if text is None:
            raise ValueError("no text")
        top = symtable.symtable(text, SUBMISSION, "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                binds.add(stmt.name)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                binds.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        for node in (n for stmt in body for n in ast.walk(stmt)):
            if isinstance(node, ast.Name):
                (reads if isinstance(node.ctx, ast.Load) else binds).add(node.id)
        return binds, reads - binds
    for sym in top.get_symbols():
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            binds.add(sym.get_name())
        elif sym.is_referenced():
            reads.add(sym.get_name())
    tables = list(top.get_children())
    while tables:
        table = tables.pop()
        for sym in table.get_symbols():
            if sym.is_declared_global() and sym.is_assigned():
                binds.add(sym.get_name())
            elif sym.is_global() and sym.is_referenced():
                reads.add(sym.get_name())
        tables.extend(table.get_children())
    return binds, reads - binds


def _make_cells(functions: list[CellFunction], source: Optional[str]) -> list[_Cell]:
    """The cells of a notebook as marimo sees them (see _make_cell), from its text."""
    lines = _source_lines(source) if source is not None else None
    return [_make_cell(i, fn, lines) for i, fn in enumerate(functions)]


def _make_cell(index: int, fn: CellFunction, source_lines: Optional[list[str]]) -> _Cell:
    """A cell function as marimo sees it: its body without the final `return`, dedented,
    and the names it binds and reads. Its parameters and what it returns do not count:
    marimo works them out from the code."""
    body = list(fn.body)
    if body and isinstance(body[-1], ast.Return):
        body.pop()
    body = _dedented(source_lines, body)
    block = _block(source_lines, body) if body and source_lines is not None else None
    binds, reads = _scope_names(block.text if block else None, body)
    return _Cell(index, fn.lineno, {n for n in reads if not _is_private(n)},
                 {n for n in binds if not _is_private(n)}, body, binds)


def _split_marimo(tree: ast.Module, source: Optional[str] = None
                  ) -> Optional[tuple[list[ast.stmt], list[CellFunction]]]:
    """For a marimo file, the statements an import runs (all but the `@app.cell` functions)
    and the cell functions; None if not marimo. With the file's text, the setup block is
    dedented as marimo does (the cells are, by _make_cells, when they are needed)."""
    aliases = {a.asname or a.name for s in tree.body if isinstance(s, ast.Import)
               for a in s.names if a.name == "marimo"}
    apps = {t.id for s in tree.body if isinstance(s, ast.Assign)
            and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute)
            and s.value.func.attr == "App" and isinstance(s.value.func.value, ast.Name)
            and s.value.func.value.id in aliases
            for t in s.targets if isinstance(t, ast.Name)}
    if not apps:
        return None
    lines = _source_lines(source) if source is not None else None
    body: list[ast.stmt] = []
    cells: list[CellFunction] = []
    for stmt in tree.body:
        if (isinstance(stmt, (ast.With, ast.AsyncWith)) and len(stmt.items) == 1
                and _is_app_attr(stmt.items[0].context_expr, apps, "setup")):
            body.extend(_dedented(lines, stmt.body))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # marimo's cell_decorator(top_level=True) gives back whatever it decorates, so
            # @app.function on a class and @app.class_definition on a function both define.
            marked = [d for d in stmt.decorator_list if _is_app_attr(d, apps, "function")
                      or _is_app_attr(d, apps, "class_definition")]
            if marked:
                stmt = copy.copy(stmt)
                stmt.decorator_list = [d for d in stmt.decorator_list if d is not marked[0]]
                body.append(stmt)
            elif not any(_is_app_attr(d, apps, "cell") for d in stmt.decorator_list):
                body.append(stmt)  # a plain definition is defined by an import too
            elif not isinstance(stmt, ast.ClassDef):
                cells.append(stmt)
        else:  # the header, `app = ...`, and whatever else an import runs
            body.append(stmt)
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
    line = _notebook_line(e, abs_path)
    text = str(e)
    if len(text) > EXCEPTION_TEXT_MAX:
        text = text[:EXCEPTION_TEXT_MAX] + "..."
    where = f" on line {line}" if line else ""
    return f"The notebook raised {type(e).__name__}{where} while loading" + (
        f": {text}" if text else ".")


def _notebook_line(e: BaseException, abs_path: str) -> Optional[int]:
    """The line of the notebook's last frame in the traceback of `e`."""
    line = None
    for frame, lineno in traceback.walk_tb(e.__traceback__):
        if frame.f_code.co_filename in (SUBMISSION, abs_path):
            line = lineno
    return line


def _is_stop(e: BaseException) -> bool:
    """Whether `e` is the stand-in marimo's MarimoStopError (raised by `mo.stop`)."""
    return type(e).__name__ == "MarimoStopError" and type(e).__module__ == "marimo"


class _TooDeep(Exception):
    """compile() ran out of stack on the notebook's code."""


def _compile(body: list[ast.stmt]) -> types.CodeType:
    """Compile statements under the notebook's file name (so tracebacks point at the
    student's lines); top-level `await` (async setup, async cells) is allowed. Raises
    SyntaxError for what the parser let through, _TooDeep when compiling needs more stack
    than the interpreter has."""
    try:
        return compile(ast.Module(body=body, type_ignores=[]), SUBMISSION, "exec",
                       flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except (RecursionError, MemoryError):
        raise _TooDeep() from None


def _run(body: list[ast.stmt], namespace: dict[str, Any]) -> None:
    """Compile statements (see _compile) and run them in `namespace`."""
    result = eval(_compile(body), namespace)
    if inspect.iscoroutine(result):
        import asyncio  # only for notebooks with top-level await: it takes 50 ms to import
        asyncio.run(result)


def _graph(cells: list[_Cell]) -> dict[int, set[int]]:
    """cell index -> the cells that must run before it: those defining a name it reads."""
    definers: dict[str, set[int]] = {}
    for cell in cells:
        for name in cell.defs:
            definers.setdefault(name, set()).add(cell.index)
    return {c.index: {d for r in c.refs for d in definers.get(r, ())} - {c.index}
            for c in cells}


def _cell_order(cells: list[_Cell], parents: dict[int, set[int]]) -> list[_Cell]:
    """Cells in dependency order, the earliest in the file first among those ready (as
    marimo's topological_sort); cells on a cycle are left out, as marimo refuses them."""
    waiting = {c.index: len(parents[c.index]) for c in cells}
    children: dict[int, list[int]] = {c.index: [] for c in cells}
    for index, ps in parents.items():
        for p in ps:
            children[p].append(index)
    ready = sorted(i for i, n in waiting.items() if n == 0)
    order: list[_Cell] = []
    while ready:
        index = ready.pop(0)
        order.append(cells[index])
        for child in children[index]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
                ready.sort()
    return order


def _descendants(index: int, parents: dict[int, set[int]]) -> set[int]:
    """Every cell that needs cell `index`, directly or not."""
    found: set[int] = set()
    todo = [index]
    while todo:
        current = todo.pop()
        for cell, ps in parents.items():
            if current in ps and cell not in found:
                found.add(cell)
                todo.append(cell)
    return found


def _run_cells(cells: list[_Cell], module: types.ModuleType,
               abs_path: str) -> tuple[dict[str, Any], dict[int, str]]:
    """Run the cells flattened, starting from the module's namespace, as marimo's script
    mode does: a cell that fails or stops (`mo.stop`) cancels the cells that need it.
    Returns what they defined and, per cell that did not run to its end, why not."""
    env = dict(vars(module))
    parents = _graph(cells)
    order = _cell_order(cells, parents)
    ordered = {c.index for c in order}
    why_not = {c.index: "its cell is part of a cycle" for c in cells if c.index not in ordered}
    for cell in order:
        if cell.index in why_not:
            continue
        before = set(env)
        cause = None
        try:
            _run(cell.body, env)
        except _TooDeep:
            why_not[cell.index] = "its cell failed: " + too_deep_message(cell.line)
            cause = f"a cell it needs (line {cell.line}) failed"
        except BaseException as e:  # also SystemExit: a cell must not end the harness
            if _is_stop(e):  # marimo keeps what the cell defined before it stopped
                line = _notebook_line(e, abs_path)
                why_not[cell.index] = f"its cell stopped at mo.stop() on line {line}"
                cause = f"a cell it needs stopped at mo.stop() on line {line}"
            else:
                why_not[cell.index] = "its cell failed: " + _exception_message(e, abs_path)
                cause = f"a cell it needs (line {cell.line}) failed"
                for name in cell.binds:  # dependents must not see a half-run cell
                    if name not in before:
                        env.pop(name, None)
        if cause:
            for other in _descendants(cell.index, parents):
                why_not.setdefault(other, cause)
    return env, why_not


def _advice(name: str, kind: str) -> str:
    """How to make `name` importable, by what it is: "function", "class" or "value"."""
    if kind == "class":
        return f"Make {name} a top-level class (marimo: @app.class_definition)"
    if kind == "value":
        return f"Set {name} in the setup cell (marimo: with app.setup:)"
    return f"Make {name} a top-level function (marimo: @app.function)"


def _kind_in_cell(name: str, cell: _Cell) -> str:
    """What the cell's top-level code binds `name` to: "function", "class" or "value"."""
    for stmt in cell.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            return "function"
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return "class"
    return "value"


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
            if name in cell.binds:
                reason = why_not.get(cell.index)
                text = (f"{name} is defined inside a cell, so it cannot be imported"
                        + (f" ({reason})" if reason else "") + ". ")
                kind = _kind_in_cell(name, cell)
                text += _advice(name, kind) + (
                    "." if kind == "value" else ": move what it uses into the setup cell.")
                break
    if len(missing) > 1:
        text += " Also missing: " + ", ".join(missing[1:]) + "."
    return text


def _found_in_cells_message(found: list[str], env: dict[str, Any]) -> str:
    """The advice when the tests' names were found only by running the cells: the load
    succeeds, and the student learns how to make the first one importable (functions and
    classes before values)."""
    def kind(name: str) -> str:
        value = env[name]
        return "class" if isinstance(value, type) else "function" if callable(value) \
            else "value"

    found = sorted(found, key=lambda n: (kind(n) == "value", n))
    name = found[0]
    did = "is set" if kind(name) == "value" else "ran"
    text = (f"{name} {did} inside a cell (the tests found it by running the notebook's "
            f"cells). {_advice(name, kind(name))} so it can be imported.")
    if len(found) > 1:
        text += " Also found only by running the cells: " + ", ".join(found[1:]) + "."
    return text


def load_notebook(path: str, tree: ast.Module, needed: set[str]) -> LoadResult:
    """Run the notebook parsed as `tree` as module `submission` (registered in sys.modules)
    and check it defines every name in `needed`, running its cells when a name is only
    defined there. Never raises for a bad notebook."""
    abs_path = os.path.abspath(path)
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = abs_path
    sys.modules[MODULE_NAME] = module
    source = getattr(tree, SOURCE_ATTR, None)
    split = _split_marimo(tree, source)
    body, functions = split if split else (tree.body, [])
    try:
        _run(body, vars(module))
    except SyntaxError as e:  # compile-time errors the parser lets through (`await`, ...)
        if e.msg in DEPTH_ERRORS:
            return LoadResult(False, too_deep_message(e.lineno, e.msg))
        return LoadResult(False, f"line {e.lineno}: {e.msg}" if e.lineno else e.msg)
    except _TooDeep:
        return LoadResult(False, too_deep_message(nesting(tree)[1]))
    except BaseException as e:  # SystemExit from the notebook is a load failure too
        if _is_stop(e):
            line = _notebook_line(e, abs_path)
            return LoadResult(False, f"mo.stop() on line {line} stopped the notebook while "
                              f"it was loading, so it cannot be imported (marimo stops there "
                              f"too). Move the mo.stop() into a cell of its own.")
        return LoadResult(False, _exception_message(e, abs_path))
    missing = sorted(n for n in needed if not hasattr(module, n))
    if not missing:
        return LoadResult(True, "", module)
    cells = _make_cells(functions, source)
    env, why_not = _run_cells(cells, module, abs_path) if cells else ({}, {})
    found = [n for n in missing if n in env]
    for name in found:
        setattr(module, name, env[name])
    still = [n for n in missing if n not in env]
    if still:
        return LoadResult(False, _missing_message(still, split is not None, cells, why_not))
    return LoadResult(True, _found_in_cells_message(found, env), module)
