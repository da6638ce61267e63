#!/usr/bin/python3
"""Write a C file that embeds files as byte arrays.

Usage: embed.py SRC OUT.c [TABLE] -- SRC is a folder (every file under it)
or one file. The table (default `embedded_harness`) lists each file by its
path relative to SRC (or by its name when SRC is a file), so the binary can
use the harness, the web UI and the schema without any file beside it.
"""
import sys
from pathlib import Path


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    table = sys.argv[3] if len(sys.argv) > 3 else "embedded_harness"
    if src.is_file():
        files, root = [src], src.parent
    else:
        files = sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        root = src
    lines = ['#include "embedded.h"', ""]
    for i, path in enumerate(files):
        data = path.read_bytes()
        body = ",".join(str(b) for b in data)
        lines.append(f"static const unsigned char f{i}[] = {{{body},0}};")
    lines.append(f"const struct embedded_file {table}[] = {{")
    for i, path in enumerate(files):
        rel = path.relative_to(root).as_posix()
        lines.append(f'\t{{"{rel}", f{i}, {len(path.read_bytes())}}},')
    lines.append("\t{0, 0, 0}")
    lines.append("};")
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
