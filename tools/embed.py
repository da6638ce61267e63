#!/usr/bin/python3
"""Write a C file that embeds files as byte arrays.

Usage: embed.py [--pyc] SRC OUT.c [TABLE] -- SRC is a folder (every file
under it) or one file. The table (default `embedded_harness`) lists each file
by its path relative to SRC (or by its name when SRC is a file), so the binary
can use the harness, the web UI and the schema without any file beside it.

--pyc adds each .py file's bytecode as __pycache__/NAME.TAG.pyc, compiled by
this Python (the sandbox's /usr/bin/python3) and marked "unchecked": the
sandbox runs the harness from a fresh folder, so source timestamps never
match, and compiling the harness again cost each grading ~40 ms of CPU in
every sandbox. A Python with another bytecode version ignores the files and
compiles the sources, as before.
"""
import importlib.util
import py_compile
import sys
import tempfile
from pathlib import Path


def bytecode(path: Path, rel: str) -> tuple[str, bytes]:
    """The unchecked .pyc of `path`, and where Python looks for it beside `rel`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.pyc"
        py_compile.compile(str(path), cfile=str(out), dfile=rel, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        return importlib.util.cache_from_source(rel), out.read_bytes()


def main() -> None:
    args = sys.argv[1:]
    pyc = args[:1] == ["--pyc"]
    if pyc:
        args = args[1:]
    src, out = Path(args[0]), Path(args[1])
    table = args[2] if len(args) > 2 else "embedded_harness"
    if src.is_file():
        files, root = [src], src.parent
    else:
        files = sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        root = src
    entries = []  # (path in the table, bytes)
    for path in files:
        rel = path.relative_to(root).as_posix()
        entries.append((rel, path.read_bytes()))
        if pyc and path.suffix == ".py":
            entries.append(bytecode(path, rel))
    lines = ['#include "embedded.h"', ""]
    for i, (_, data) in enumerate(entries):
        body = ",".join(str(b) for b in data)
        lines.append(f"static const unsigned char f{i}[] = {{{body},0}};")
    lines.append(f"const struct embedded_file {table}[] = {{")
    for i, (rel, data) in enumerate(entries):
        lines.append(f'\t{{"{rel}", f{i}, {len(data)}}},')
    lines.append("\t{0, 0, 0}")
    lines.append("};")
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
