"""Notebooks shaped like marimo's own (tests/harness/notebooks, README there names each one's
original): the loader defines the names an import of the notebook defines under marimo, and
the cells, run by the loader, compute what they compute under marimo.

Expected values come from marimo's source (github.com/marimo-team/marimo at 3955fdf):
- names: marimo/_ast/cell_manager.py, cell_decorator: `@app.function` and
  `@app.class_definition` give back the function or class; `@app.cell` gives a Cell object
  (markbook leaves cells undefined: tests cannot use a Cell); `with app.setup:` runs as plain
  code, so its imports are module attributes.
- UI values: marimo/_plugins/ui/_impl/*.py, each kind's __init__ and _convert_value (see
  test_marimo_standin.py for the rule of each kind).
- progress bars: marimo/_plugins/stateless/status/_progress.py, progress_bar.__iter__ and
  __aiter__ yield every item; ProgressBar.update adds `increment` to `current`.
- mo.cache: marimo/_save/save.py, _cache_call.__call__ runs the function on a miss only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import HARNESS, Stage, run_harness

sys.path.insert(0, str(HARNESS))
import loader  # noqa: E402  (the harness module, run in this process)
import marimo  # noqa: E402,F401  (the stand-in: the notebooks' `import marimo` finds it)

NOTEBOOKS = Path(__file__).parent / "notebooks"

# Public names an import defines under marimo, Cell objects aside.
IMPORT_NAMES = {
    "ui_gallery.py": {"marimo", "app"},
    "progress_status.py": {"marimo", "app"},
    "async_iterator.py": {"marimo", "app", "delays"},
    "fileformat.py": {"marimo", "app", "dataclasses", "random", "throw", "Experiment"},
    "in_memory_cache.py": {"marimo", "app"},
}


def load(name: str, needed: set[str], tmp_path: Path) -> loader.LoadResult:
    """Copy the notebook to `tmp_path` as submission.py and load it needing `needed`."""
    path = tmp_path / "submission.py"
    path.write_text((NOTEBOOKS / name).read_text())
    parsed = loader.parse_submission(str(path))
    assert parsed.ok, parsed.message
    return loader.load_notebook(str(path), parsed.tree, needed)


@pytest.mark.parametrize("name", sorted(IMPORT_NAMES))
def test_an_import_defines_what_marimos_import_defines(name: str, tmp_path: Path) -> None:
    loaded = load(name, set(), tmp_path)
    assert loaded.ok and loaded.message == ""
    public = {n for n in vars(loaded.module) if not n.startswith("__")}
    assert public == IMPORT_NAMES[name]
    assert loaded.module.__generated_with == "0.19.7"


UI_VALUES: dict[str, Any] = {
    "slider": 1, "number": 1, "range_slider": [1, 10], "dropdown": None, "multiselect": [],
    "radio": None, "text": "", "text_area": "", "switch": False, "checkbox": False,
    "date_range": (dt.date(2023, 1, 1), dt.date(2023, 12, 31)), "button": 0,
    "first_button": False, "second_button": False, "table": [], "array": ["", 1, False],
    "dictionary": {"name": "", "age": 1}, "form": None, "element": {"low": 0, "high": 5},
    "tabs": "Bob says", "file": (), "matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
}


def test_ui_gallery_elements_have_marimos_initial_values(tmp_path: Path) -> None:
    loaded = load("ui_gallery.py", set(UI_VALUES) | {"choice"}, tmp_path)
    assert loaded.ok, loaded.message
    values = {name: getattr(loaded.module, name).value for name in UI_VALUES}
    assert values == UI_VALUES
    assert loaded.module.choice == "none yet"  # run buttons start unclicked


def test_progress_bars_pass_every_item_through(tmp_path: Path) -> None:
    loaded = load("progress_status.py", {"pause", "quiet", "seen", "bar", "finished", "total"},
                  tmp_path)
    assert loaded.ok, loaded.message
    module = loaded.module
    assert module.pause == 0.01 and module.quiet.value is False
    assert module.seen == list(range(10))
    assert (module.bar.current, module.bar.total, module.bar.closed) == (10, 10, True)
    assert module.finished is True and module.total == 6


def test_progress_bar_over_an_async_generator(tmp_path: Path) -> None:
    loaded = load("async_iterator.py", {"arrived"}, tmp_path)
    assert loaded.ok, loaded.message
    assert loaded.module.arrived == [0.01, 0.02, 0.03]
    assert inspect.isasyncgenfunction(loaded.module.delays)


def test_fileformat_functions_classes_and_a_cell_function(tmp_path: Path) -> None:
    loaded = load("fileformat.py", {"throw", "Experiment"}, tmp_path)
    assert loaded.ok and loaded.message == ""
    module = loaded.module
    assert 1 <= module.throw() <= 6 and len(module.Experiment(3).run()) == 3
    assert dataclasses.is_dataclass(module.Experiment)
    # A function's docstring keeps its indentation: marimo dedents cells, and a top-level
    # function's code starts at the margin.
    assert module.throw.__doc__ == "\n    One throw of a six-sided die.\n    "
    cells = load("fileformat.py", {"fair_chance", "own_source"}, tmp_path)
    assert cells.ok
    assert cells.message == (
        "fair_chance ran inside a cell (the tests found it by running the notebook's cells). "
        "Make fair_chance a top-level function (marimo: @app.function) so it can be "
        "imported. Also found only by running the cells: own_source.")
    assert cells.module.fair_chance() == 1 / 6
    assert cells.module.own_source == (tmp_path / "submission.py").read_text()


def test_cache_in_a_cell_computes_once(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    loaded = load("in_memory_cache.py", {"first", "again", "slow_square"}, tmp_path)
    assert loaded.ok, loaded.message
    assert loaded.module.first == loaded.module.again == 16
    assert capsys.readouterr().out == "Computing\n"
    assert loaded.module.slow_square.cache_info().hits == 1


def test_a_progress_bar_notebook_graded_by_the_harness(stage: Stage) -> None:
    """The same notebook through run.py, as markbook runs it: the tests import cell values."""
    tests = """
        from submission import seen, total


        def test_bars():
            assert seen == list(range(10)) and total == 6
    """
    report = run_harness(stage((NOTEBOOKS / "progress_status.py").read_text(),
                               {"test_bars.py": tests}), timeout=10)
    assert report.one("load")["ok"] is True
    assert report.outcomes() == {"test_bars.py::test_bars": "passed"}
