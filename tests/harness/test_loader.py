"""The notebook loader, seen through the harness's `parse` and `load` records."""

from __future__ import annotations

import sys

from conftest import (CASES_CELL, HARNESS, IS_PRIME, NONCE, SETUP, TEST_IS_PRIME, Stage,
                      marimo_notebook, run_harness)

sys.path.insert(0, str(HARNESS))
import loader  # noqa: E402  (the harness module, for the pure AST functions)


def test_marimo_setup_and_function_load_and_pass(stage: Stage) -> None:
    staging = stage(marimo_notebook(SETUP, IS_PRIME, CASES_CELL),
                    {"test_prime.py": TEST_IS_PRIME})
    report = run_harness(staging)
    assert report.returncode == 0
    assert report.kinds() == ["sandbox", "parse", "load", "test", "end"]
    assert report.one("parse") == {"ok": True, "message": "", "flags": []}
    assert report.one("load") == {"ok": True, "message": ""}
    assert report.outcomes() == {"test_prime.py::test_small": "passed"}
    assert report.one("end") == {"exitstatus": 0}


def test_function_variants_alias_hide_code_and_extra_decorators(stage: Stage) -> None:
    notebook = marimo_notebook(
        """
        with app.setup(hide_code=True):
            import functools
            import math
        """.replace("\n        ", "\n"),
        """
        @app.function(hide_code=True)
        @functools.lru_cache(maxsize=None)
        def is_prime(n: int) -> bool:
            return n > 1 and all(n % d for d in range(2, math.isqrt(n) + 1))
        """,
        """
        @functools.lru_cache(maxsize=None)
        @mx.function
        def square(n: int) -> int:
            return n * n
        """,
        header="import marimo as mx", app="mx.App()").replace("@mx.function", "@app.function")
    tests = """
        import submission
        from submission import is_prime, square


        def test_decorators_kept():
            assert is_prime(7) is True and is_prime(8) is False
            assert is_prime.cache_info().hits == 0
            assert square(3) == 9
            assert square.cache_info().misses == 1


        def test_module_identity():
            import os
            assert submission.__name__ == "submission"
            assert submission.__file__ == os.path.join(os.getcwd(), "submission.py")
            assert type(submission.app).__name__ == "App"
    """
    report = run_harness(stage(notebook, {"test_variants.py": tests}))
    assert report.one("load") == {"ok": True, "message": ""}
    assert report.outcomes() == {"test_variants.py::test_decorators_kept": "passed",
                                 "test_variants.py::test_module_identity": "passed"}


def test_class_definition_and_async_setup(stage: Stage) -> None:
    notebook = marimo_notebook(
        "async with app.setup:\n    import asyncio\n    await asyncio.sleep(0)\n    "
        "START = 10\n",
        """
        @app.class_definition
        class Counter:
            def __init__(self) -> None:
                self.n = START

            def bump(self) -> int:
                self.n += 1
                return self.n
        """,
        """
        @app.class_definition(hide_code=True)
        class Empty:
            pass
        """)
    tests = """
        from submission import Counter, Empty


        def test_counter():
            assert Counter().bump() == 11
            assert Empty.__name__ == "Empty"
    """
    report = run_harness(stage(notebook, {"test_counter.py": tests}))
    assert report.one("load") == {"ok": True, "message": ""}
    assert report.outcomes() == {"test_counter.py::test_counter": "passed"}


def test_cells_unparsable_cells_and_main_do_not_run(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP, IS_PRIME,
        """
        @app.cell
        def _():
            raise RuntimeError("a cell ran")
            return
        """,
        'app._unparsable_cell(\n    r"""\n    this is not python (\n    """,\n'
        '    name="_"\n)')
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("parse")["ok"] is True
    assert report.one("load") == {"ok": True, "message": ""}
    assert report.outcomes() == {"test_prime.py::test_small": "passed"}


def test_plain_python_file_runs_as_a_module(stage: Stage) -> None:
    submission = """
        import math

        def is_prime(n):
            return n > 1 and all(n % d for d in range(2, math.isqrt(n) + 1))
    """
    report = run_harness(stage(submission, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("load") == {"ok": True, "message": ""}
    assert report.outcomes() == {"test_prime.py::test_small": "passed"}


def test_syntax_error_gives_its_line_and_stops(stage: Stage) -> None:
    notebook = marimo_notebook(SETUP, "@app.function\ndef is_prime(n):\n    return n +\n")
    staging = stage(notebook, {"test_prime.py": TEST_IS_PRIME})
    report = run_harness(staging)
    line = notebook.splitlines().index("    return n +") + 1
    assert report.kinds() == ["sandbox", "parse", "end"]
    assert report.one("parse") == {"ok": False, "message": f"line {line}: invalid syntax",
                                   "flags": []}
    assert report.one("end") == {"exitstatus": 2}
    assert report.returncode == 0


def test_not_utf8_is_rejected_with_the_line(stage: Stage) -> None:
    source = "import math\n\n# caf\xe9\nx = 1\n".encode("latin-1")
    report = run_harness(stage(source, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("parse") == {
        "ok": False, "flags": [],
        "message": "submission.py is not UTF-8 text (byte 0xe9 on line 3). Save the notebook "
                   "as UTF-8 and upload it again."}
    assert report.kinds() == ["sandbox", "parse", "end"]


def test_function_left_in_a_cell_is_found_by_running_the_cells(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP,
        """
        @app.cell
        def _(limit):
            def is_prime(n):
                return 1 < n < limit and all(n % d for d in range(2, math.isqrt(n) + 1))
            return (is_prime,)
        """,
        """
        @app.cell
        def _(mo):
            limit = 100
            mo.md(f"limit is {limit}")
            return (limit,)
        """)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("load") == {
        "ok": True,
        "message": "is_prime ran inside a cell (the tests found it by running the notebook's "
                   "cells). Make is_prime a top-level function (marimo: @app.function) so it "
                   "can be imported."}
    assert report.outcomes() == {"test_prime.py::test_small": "passed"}


def test_missing_name_says_how_to_fix_it(stage: Stage) -> None:
    notebook = marimo_notebook(SETUP, CASES_CELL)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("load") == {
        "ok": False,
        "message": "is_prime is not defined at the top level of the notebook. Make is_prime a "
                   "top-level function (marimo: @app.function): move what it uses into the "
                   "setup cell."}
    assert report.kinds() == ["sandbox", "parse", "load", "end"]
    assert report.one("end") == {"exitstatus": 2}


def test_function_in_a_failing_cell_is_named_with_the_reason(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP,
        """
        @app.cell
        def _():
            def is_prime(n):
                return n > 1
            oops = 1 / 0
            return (is_prime,)
        """)
    report = run_harness(stage(notebook, {"test_prime.py": "import submission\n\n\n"
                                          "def test_it():\n    assert submission.is_prime(2)\n"}))
    line = notebook.splitlines().index("    oops = 1 / 0") + 1
    assert report.one("load") == {
        "ok": False,
        "message": "is_prime is defined inside a cell, so it cannot be imported (its cell "
                   f"failed: The notebook raised ZeroDivisionError on line {line} while loading:"
                   " division by zero). Make is_prime a top-level function (marimo: "
                   "@app.function): move what it uses into the setup cell."}


def test_exception_while_loading_names_the_line(stage: Stage) -> None:
    notebook = marimo_notebook(
        "with app.setup:\n    import math\n    RATE = compute()\n",
        """
        @app.function
        def compute():
            return 1 / 0
        """)
    # `compute` is defined after the setup block, so the setup block raises NameError.
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    line = notebook.splitlines().index("    RATE = compute()") + 1
    assert report.one("load") == {
        "ok": False,
        "message": f"The notebook raised NameError on line {line} while loading: name "
                   "'compute' is not defined"}


def test_exception_in_a_plain_file_names_the_last_notebook_line(stage: Stage) -> None:
    plain = "def f():\n    return 1 / 0\n\nX = f()\n"
    report = run_harness(stage(plain, {"test_x.py": "def test_x():\n    pass\n"}))
    assert report.one("load") == {
        "ok": False,
        "message": "The notebook raised ZeroDivisionError on line 2 while loading: division "
                   "by zero"}
    assert report.kinds() == ["sandbox", "parse", "load", "end"]


def test_integrity_flags_for_eval_ctypes_inspect_and_frames(stage: Stage) -> None:
    notebook = marimo_notebook(
        "with app.setup:\n    import ctypes\n    import inspect\n    import sys as system\n",
        """
        @app.function
        def is_prime(n):
            caller = system._getframe(1).f_back
            inspect.stack()
            return eval("n > 1")
        """)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("parse") == {
        "ok": True, "message": "",
        "flags": ["ctypes", "eval", "frame attributes", "inspect", "sys._getframe"]}
    assert report.one("load")["ok"] is True  # flags never stop grading


def test_integrity_flags_cover_the_documented_list() -> None:
    source = """
import gc, signal, socket, atexit, builtins, importlib
import pytest
from os import _exit as quit_now
import os, subprocess
import multiprocessing.pool
sys.modules["x"] = None
exec("1"); compile("1", "f", "exec"); __import__("os")
os.system("true"); os.spawnv(0, "x", []); os.fork()
builtins.print = None
tb.tb_frame, gen.gi_frame, coro.cr_frame, f.f_locals, f.f_globals, f.f_code
"""
    assert loader.integrity_flags(loader.ast.parse(source)) == [
        "__import__", "atexit", "builtins", "compile", "exec", "frame attributes", "gc",
        "os._exit", "pytest", "signal", "socket", "subprocess", "sys.modules"]
    honest = "import math\nimport re\nPAT = re.compile('a')\nx = math.sqrt(2)\n"
    assert loader.integrity_flags(loader.ast.parse(honest)) == []


def test_needed_names_from_imports_and_attributes(tmp_path) -> None:
    (tmp_path / "test_a.py").write_text(
        "from submission import a, b as c\nimport submission as s\nimport os\n"
        "def test():\n    s.d(os.e)\n")
    (tmp_path / "test_b.py").write_text("import submission\nsubmission.f\nfrom x import g\n")
    assert loader.needed_names([str(tmp_path / "test_a.py"), str(tmp_path / "test_b.py")]) \
        == {"a", "b", "d", "f"}


def test_report_nonce_is_the_one_from_fd_4(stage: Stage) -> None:
    report = run_harness(stage("X = 1\n", {"test_x.py": "def test_x():\n    pass\n"}))
    assert report.records and all(r["nonce"] == NONCE for r in report.records)
    assert report.others == []


def test_notebook_mode_reports_the_shape_without_running_anything(stage: Stage) -> None:
    """The publish gate's look at the scaffold: a marimo notebook, with the tested name in a
    plain cell (not an @app.function) reported as outside; no cell runs, no test runs."""
    in_a_cell = """
        @app.cell
        def _():
            def is_prime(n):
                return False
            open("ran.txt", "w").write("a cell ran")
            return (is_prime,)
        """.replace("\n        ", "\n")
    staging = stage(marimo_notebook(SETUP, in_a_cell), {"test_prime.py": TEST_IS_PRIME})
    report = run_harness(staging, mode="notebook")
    assert report.returncode == 0
    assert report.kinds() == ["sandbox", "parse", "notebook", "end"]
    assert report.one("notebook") == {"marimo": True, "outside": ["is_prime"]}
    assert not (staging / "ran.txt").exists()


def test_notebook_mode_on_a_proper_scaffold(stage: Stage) -> None:
    good = run_harness(stage(marimo_notebook(SETUP, IS_PRIME), {"test_prime.py": TEST_IS_PRIME}),
                       mode="notebook")
    assert good.one("notebook") == {"marimo": True, "outside": []}


def test_notebook_mode_on_a_plain_file_says_it_is_not_marimo(stage: Stage) -> None:
    plain = run_harness(stage("def is_prime(n):\n    return False\n",
                              {"test_prime.py": TEST_IS_PRIME}), mode="notebook")
    assert plain.one("notebook") == {"marimo": False, "outside": []}
