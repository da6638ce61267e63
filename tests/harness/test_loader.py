"""The notebook loader, seen through the harness's `parse` and `load` records."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

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
    (tmp_path / "test_deep.py").write_text("from submission import z\nx = " + "-" * 5000 + "1\n")
    assert loader.needed_names([str(tmp_path / name) for name in
                                ("test_a.py", "test_b.py", "test_deep.py")]) \
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


# --- cells as marimo runs them ---------------------------------------------------------------


def test_cell_and_setup_strings_are_dedented_as_marimo_does(stage: Stage) -> None:
    """marimo/_ast/dedent.py: a cell's lines lose the cell's indentation, multi-line strings
    included, unless a line of the string is indented less than the cell's code."""
    notebook = marimo_notebook(
        'with app.setup:\n    import marimo as mo\n    BANNER = """\n    Hello\n      world\n'
        '    """\n',
        '''
        @app.cell
        def _():
            width = 3
            greeting = f"""
            a{width}
              b
            """
            kept = """
        flush left
            """
            def boom():
                raise ValueError("from a dedented cell")
            return
        ''')
    tests = """
        import submission
        from submission import boom


        def test_values():
            assert submission.BANNER == "\\nHello\\n  world\\n"
            assert submission.greeting == "\\na3\\n  b\\n"
            assert submission.kept == "\\nflush left\\n    "


        def test_lines_are_the_files():
            try:
                boom()
            except ValueError as e:
                tb = e.__traceback__
                while tb.tb_next:
                    tb = tb.tb_next
                assert tb.tb_lineno == LINE
    """.replace("LINE", str(notebook.splitlines().index(
        '        raise ValueError("from a dedented cell")') + 1))
    report = run_harness(stage(notebook, {"test_dedent.py": tests}))
    assert report.one("load")["ok"] is True, report.one("load")
    assert report.outcomes() == {"test_dedent.py::test_values": "passed",
                                 "test_dedent.py::test_lines_are_the_files": "passed"}


def test_app_function_on_a_class_exposes_the_class(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP,
        """
        @app.function
        class Robot:
            def __init__(self, name: str) -> None:
                self.name = name
        """,
        """
        @app.class_definition
        def make_robot(name: str) -> "Robot":
            return Robot(name)
        """)
    tests = """
        from submission import Robot, make_robot


        def test_robot():
            assert isinstance(make_robot("R2"), Robot) and Robot("C3").name == "C3"
    """
    staging = stage(notebook, {"test_robot.py": tests})
    report = run_harness(staging, mode="collect")
    assert report.one("load") == {"ok": True, "message": ""}
    assert report.one("names") == {"names": ["Robot", "make_robot"]}
    report = run_harness(staging)
    assert report.outcomes() == {"test_robot.py::test_robot": "passed"}


def test_cells_run_in_the_order_of_the_names_they_read(stage: Stage) -> None:
    """Parameters say the opposite of what the code reads: the first cell has none but reads
    `limit`; the second lists `threshold`, which it never reads. Run by parameters, the first
    cell would fail; marimo orders by the code, and so does the loader."""
    notebook = marimo_notebook(
        SETUP,
        """
        @app.cell
        def _():
            threshold = limit * 2
            _scratch = "private to this cell"
            return
        """,
        """
        @app.cell
        def _(threshold):
            limit = 10
            _scratch = "another cell's own"
            return
        """,
        """
        @app.cell
        def _():
            def is_prime(n):
                return 1 < n < threshold and all(n % d for d in range(2, math.isqrt(n) + 1))
            return
        """)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("load")["ok"] is True, report.one("load")
    assert report.outcomes() == {"test_prime.py::test_small": "passed"}
    split = loader._split_marimo(loader.ast.parse(notebook), notebook)
    assert split is not None
    cells = loader._make_cells(split[1], notebook)
    assert [(c.refs & {"limit", "threshold"}, c.defs) for c in cells] == [
        ({"limit"}, {"threshold"}), (set(), {"limit"}), ({"threshold"}, {"is_prime"})]
    order = loader._cell_order(cells, loader._graph(cells))
    assert [c.index for c in order] == [1, 0, 2]


def test_a_cycle_of_cells_is_left_out_with_a_reason(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP,
        "@app.cell\ndef _():\n    a = b + 1\n    def is_prime(n):\n        return True\n"
        "    return\n",
        "@app.cell\ndef _():\n    b = a + 1\n    return\n")
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("load") == {
        "ok": False,
        "message": "is_prime is defined inside a cell, so it cannot be imported (its cell is "
                   "part of a cycle). Make is_prime a top-level function (marimo: "
                   "@app.function): move what it uses into the setup cell."}


def test_mo_stop_halts_the_cell_and_the_cells_that_need_it(stage: Stage) -> None:
    """marimo/_runtime/app/script_runner.py: a MarimoStopError cancels the cell and its
    descendants; what the cell defined before mo.stop stays; other cells run."""
    notebook = marimo_notebook(
        SETUP,
        """
        @app.cell
        def _():
            button = mo.ui.run_button(label="Go")
            early = 1
            mo.stop(not button.value, mo.md("Click Go"))
            late = 2
            return
        """,
        """
        @app.cell
        def _():
            def is_prime(n):
                return n > 1 and all(n % d for d in range(2, n))
            return
        """,
        """
        @app.cell
        def _():
            def needs_late():
                return late
            doubled = late * 2
            return
        """)
    tests = """
        import submission


        def test_what_ran():
            assert submission.is_prime(7) and submission.early == 1
            assert not hasattr(submission, "late")
    """
    staging = stage(notebook, {"test_prime.py": tests})
    report = run_harness(staging, names="is_prime,early")
    assert report.one("load")["ok"] is True
    assert report.outcomes() == {"test_prime.py::test_what_ran": "passed"}
    stop_line = notebook.splitlines().index('    mo.stop(not button.value, mo.md("Click Go"))') + 1
    tests = "from submission import needs_late\n\n\ndef test_late():\n    assert needs_late()\n"
    report = run_harness(_restage(staging, tests))
    assert report.one("load") == {
        "ok": False,
        "message": "needs_late is defined inside a cell, so it cannot be imported (a cell it "
                   f"needs stopped at mo.stop() on line {stop_line}). Make needs_late a "
                   "top-level function (marimo: @app.function): move what it uses into the "
                   "setup cell."}


def _restage(staging: Path, tests: str) -> Path:
    """The same staging folder with other hidden tests."""
    for old in (staging / "hidden").iterdir():
        old.unlink()
    (staging / "hidden" / "test_other.py").write_text(textwrap.dedent(tests))
    return staging


def test_mo_stop_in_the_setup_cell_fails_the_load(stage: Stage) -> None:
    notebook = marimo_notebook(
        "with app.setup:\n    import marimo as mo\n    mo.stop(True)\n    import math\n",
        IS_PRIME)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    line = notebook.splitlines().index("    mo.stop(True)") + 1
    assert report.one("load") == {
        "ok": False,
        "message": f"mo.stop() on line {line} stopped the notebook while it was loading, so "
                   "it cannot be imported (marimo stops there too). Move the mo.stop() into a "
                   "cell of its own."}


def test_a_failing_cell_cancels_the_cells_that_need_it(stage: Stage) -> None:
    notebook = marimo_notebook(
        SETUP,
        "@app.cell\ndef _():\n    table = {}\n    rate = table['rate']\n    return\n",
        "@app.cell\ndef _():\n    def is_prime(n):\n        return rate > 0\n    return\n")
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    line = notebook.splitlines().index("@app.cell") + 2
    assert report.one("load") == {
        "ok": False,
        "message": f"is_prime is defined inside a cell, so it cannot be imported (a cell it "
                   f"needs (line {line}) failed). Make is_prime a top-level function (marimo: "
                   "@app.function): move what it uses into the setup cell."}


def test_stand_in_values_in_a_setup_cell_grade_right(stage: Stage) -> None:
    """The reasons a correct student scored 0 before (issue 13, finding 10), in one notebook:
    notebook_dir() in the setup cell, a progress bar's total, a slider's value, and
    running_in_notebook()."""
    notebook = marimo_notebook(
        'with app.setup:\n    import marimo as mo\n    HERE = mo.notebook_dir()\n'
        '    STEP = mo.ui.slider(1, 10, value=3).value\n'
        '    INTERACTIVE = mo.running_in_notebook()\n'
        '    get_total, set_total = mo.state(0)\n',
        """
        @app.function
        def total(xs):
            acc = 0
            for x in mo.status.progress_bar(xs, title="Adding"):
                acc += x
            return acc
        """,
        """
        @app.function
        @mo.cache
        def stepped(n):
            set_total(get_total() + 1)
            return n * STEP
        """)
    tests = """
        import os
        import pathlib
        from submission import HERE, INTERACTIVE, get_total, stepped, total


        def test_setup_values():
            assert HERE == pathlib.Path(os.getcwd()) and INTERACTIVE is False


        def test_progress_bar_and_cache():
            assert total([1, 2, 3]) == 6
            assert stepped(2) == 6 and stepped(2) == 6 and get_total() == 1
    """
    report = run_harness(stage(notebook, {"test_values.py": tests}))
    assert report.one("load") == {"ok": True, "message": ""}
    assert set(report.outcomes().values()) == {"passed"}, report.all("test")


# --- one lookup in both isolation modes -------------------------------------------------------

CELL_NOTEBOOK = marimo_notebook(
    SETUP,
    """
    @app.cell
    def _():
        def target_sum(numbers, target):
            return any(a + b == target for i, a in enumerate(numbers) for b in numbers[i + 1:])
        return
    """)
GETATTR_TESTS = """
    import submission


    def test_found_by_getattr():
        target_sum = getattr(submission, "target_sum")
        assert target_sum([1, 2, 3], 5) is True and target_sum([1, 2], 9) is False
"""
CELL_ADVICE = ("target_sum ran inside a cell (the tests found it by running the notebook's "
               "cells). Make target_sum a top-level function (marimo: @app.function) so it can "
               "be imported.")


def test_shared_isolation_finds_a_cell_function_by_the_plans_names(stage: Stage) -> None:
    """getattr() hides the name from the tests' imports; markbook passes the scaffold's
    names (--names), as it does in process isolation."""
    staging = stage(CELL_NOTEBOOK, {"test_sum.py": GETATTR_TESTS})
    report = run_harness(staging, names="target_sum")
    assert report.one("load") == {"ok": True, "message": CELL_ADVICE}
    assert report.outcomes() == {"test_sum.py::test_found_by_getattr": "passed"}
    # Without the plan's names the function stays hidden (what issue 13 found).
    without = run_harness(_restage(staging, GETATTR_TESTS))
    assert without.outcomes() == {"test_other.py::test_found_by_getattr": "failed"}


def test_process_isolation_loads_with_the_same_names_and_message(tmp_path: Path) -> None:
    """The student's side of process isolation calls load_notebook with the plan's names
    (run.py, run_student_side): the same record as shared isolation above."""
    path = tmp_path / "submission.py"
    path.write_text(CELL_NOTEBOOK)
    parsed = loader.parse_submission(str(path))
    loaded = loader.load_notebook(str(path), parsed.tree, {"target_sum"})
    assert (loaded.ok, loaded.message) == (True, CELL_ADVICE)
    assert loaded.module.target_sum([4, 5], 9) is True


def test_advice_names_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "submission.py"
    path.write_text(marimo_notebook(
        SETUP, "@app.cell\ndef _():\n    class Robot:\n        pass\n    LIMIT = 3\n    return\n"))
    parsed = loader.parse_submission(str(path))
    loaded = loader.load_notebook(str(path), parsed.tree, {"Robot", "LIMIT"})
    assert loaded.message == (
        "Robot ran inside a cell (the tests found it by running the notebook's cells). Make "
        "Robot a top-level class (marimo: @app.class_definition) so it can be imported. Also "
        "found only by running the cells: LIMIT.")
    loaded = loader.load_notebook(str(path), parsed.tree, {"LIMIT"})
    assert loaded.message == (
        "LIMIT is set inside a cell (the tests found it by running the notebook's cells). Set "
        "LIMIT in the setup cell (marimo: with app.setup:) so it can be imported.")


# --- depth: nothing the harness does recurses on the notebook ----------------------------------

TOO_DEEP = ("The notebook is nested too deeply to be graded ({what}), line {line}. Split that "
            "code into smaller steps, for example with intermediate variables or helper "
            "functions.")
LEVELS = f"more than {loader.MAX_NESTING} levels of expressions or blocks"


def _deep_notebook(expression: str) -> tuple[str, int]:
    """A notebook whose @app.function returns `expression`, and that line's number."""
    notebook = marimo_notebook(SETUP, f"@app.function\ndef is_prime(n):\n    return {expression}\n")
    return notebook, notebook.splitlines().index(f"    return {expression}") + 1


@pytest.mark.parametrize("expression,what", [
    ("n" + ".real" * 1500, LEVELS),                      # passes ast.parse, deeper than compile
    ("n" + "()" * 1500, LEVELS),
    ("(" * 250 + "n" + ")" * 250, "too many nested parentheses"),
    ("[" * 250 + "]" * 250, "too many nested parentheses"),
    ("-" * 5000 + "n", LEVELS),                          # deeper than Python's parser
    ("+".join(["n"] * 6000), LEVELS),
], ids=["attribute-chain-1500", "call-chain-1500", "parentheses-250", "list-250",
        "unary-5000", "sum-6000"])
def test_too_deep_is_a_parse_failure_with_its_line(stage: Stage, expression: str,
                                                   what: str) -> None:
    notebook, line = _deep_notebook(expression)
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.returncode == 0, report.stderr
    assert report.kinds() == ["sandbox", "parse", "end"]
    assert report.one("parse") == {"ok": False, "flags": [],
                                   "message": TOO_DEEP.format(what=what, line=line)}


def test_too_many_nested_blocks_is_a_load_failure_with_its_line(stage: Stage) -> None:
    loops = "".join("    " * (i + 1) + f"for i{i} in range(1):\n" for i in range(21))
    notebook = marimo_notebook(SETUP, f"@app.function\ndef is_prime(n):\n{loops}"
                               + "    " * 22 + "pass\n    return n == 2\n")
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    line = notebook.splitlines().index("    " * 21 + "for i20 in range(1):") + 1
    assert report.one("load") == {
        "ok": False, "message": TOO_DEEP.format(what="too many statically nested blocks",
                                                line=line)}


def test_deep_but_compilable_code_still_loads(stage: Stage) -> None:
    chain = "c" + ".me" * 300
    notebook = marimo_notebook(
        "with app.setup:\n    import math\n",
        f"@app.class_definition\nclass C:\n    me = None\n",
        f"@app.function\ndef is_prime(n):\n    c = C()\n    c.me = c\n    assert {chain} is c\n"
        "    return n > 1 and all(n % d for d in range(2, math.isqrt(n) + 1))\n")
    report = run_harness(stage(notebook, {"test_prime.py": TEST_IS_PRIME}))
    assert report.one("load") == {"ok": True, "message": ""}
    assert report.outcomes() == {"test_prime.py::test_small": "passed"}


def test_tree_walks_take_any_depth() -> None:
    """The integrity check and the depth measure walk with loops: a tree far deeper than the
    interpreter's stack (built by hand; Python's parser would refuse it) is fine."""
    node: loader.ast.expr = loader.ast.Name("os", loader.ast.Load())
    for _ in range(100_000):
        node = loader.ast.Attribute(node, "path", loader.ast.Load())
    tree = loader.ast.Module([loader.ast.Expr(node)], [])
    assert loader.integrity_flags(tree) == []
    assert loader.nesting(tree)[0] == 100_000 + 4
    chain = loader.ast.parse("import sys as s\ns" + ".modules" * 1 + "\nx = a" + ".b" * 1500)
    assert loader.integrity_flags(chain) == ["sys.modules"]


def test_dedent_keeps_lines_across_form_feeds_and_unicode_separators(tmp_path: Path) -> None:
    """Only \\n, \\r\\n and \\r end a line for the parser; a form feed or U+2028 in a string
    must not shift the cell's lines."""
    notebook = marimo_notebook(
        'with app.setup:\n    SEPARATORS = "a\\x0cb\u2028c"\n',
        '@app.cell\ndef _():\n    note = """\n    x\\x0cy\u2028z\n    """\n'
        '    def where():\n        return 1\n    return\n')
    path = tmp_path / "submission.py"
    path.write_text(notebook)
    parsed = loader.parse_submission(str(path))
    loaded = loader.load_notebook(str(path), parsed.tree, {"note", "where"})
    assert loaded.ok, loaded.message
    assert loaded.module.note == "\nx\x0cy\u2028z\n"
    line = notebook.split("\n").index("    def where():") + 1
    assert loaded.module.where.__code__.co_firstlineno == line
