"""The stand-in `marimo` module against real marimo's behaviour when a notebook is imported as a
module. Every expected value below is what marimo's own source computes; the comment beside
each names the file and function (paths in github.com/marimo-team/marimo, read at commit
3955fdf, 2026-08-21)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import pathlib
import sys
import types

import pytest

from conftest import HARNESS

sys.path.insert(0, str(HARNESS))
import marimo as mo  # noqa: E402  (the stand-in, for its pure functions)

assert mo.__version__.endswith("markbook-stand-in")
TODAYS = (dt.date.today(), dt.date.today() + dt.timedelta(days=1))  # a run across midnight

# (expression, initial value) for each kind of UI element; marimo/_plugins/ui/_impl/...
INITIAL_VALUES = [
    # input.py, slider.__init__: value defaults to start; _convert_value casts with
    # _infer_dtype(start, stop, step, value): int unless one of them is a float.
    ("mo.ui.slider(1, 10)", 1),
    ("mo.ui.slider(start=1, stop=10, value=4)", 4),
    ("mo.ui.slider(0, 1, 0.1)", 0.0),
    ("mo.ui.slider(0, 10, value=2.5)", 2.5),
    # slider with steps: the index of `value` in steps (the first when absent), mapped back.
    ("mo.ui.slider(steps=[1, 10, 100], value=10)", 10),
    ("mo.ui.slider(steps=[1, 10, 100])", 1),
    ("mo.ui.slider(steps=[1, 10, 100], value=7)", 1),
    ("mo.ui.slider(steps=[0.5, 1, 2], value=1)", 1.0),
    # input.py, number.__init__: value, else start, else stop, else None; no cast.
    ("mo.ui.number()", None),
    ("mo.ui.number(start=1, stop=10)", 1),
    ("mo.ui.number(stop=10)", 10),
    ("mo.ui.number(1, 10, value=3.5)", 3.5),
    # input.py, range_slider.__init__: [start, stop] by default, as a list, cast per item.
    ("mo.ui.range_slider(1, 10)", [1, 10]),
    ("mo.ui.range_slider(1, 10, value=[2, 5.5])", [2.0, 5.5]),
    ("mo.ui.range_slider(steps=[1, 2, 4, 8])", [1, 8]),
    ("mo.ui.range_slider(steps=[1, 2, 4, 8], value=[2, 4])", [2, 4]),
    # input.py, checkbox and switch.py, switch: value=False.
    ("mo.ui.checkbox()", False),
    ("mo.ui.checkbox(value=True)", True),
    ("mo.ui.switch()", False),
    ("mo.ui.switch(True)", True),
    # input.py, text / text_area / code_editor: value="".
    ("mo.ui.text()", ""),
    ("mo.ui.text(value='hi', placeholder='x')", "hi"),
    ("mo.ui.text_area(placeholder='type some text ...')", ""),
    ("mo.ui.code_editor('x = 1')", "x = 1"),
    # input.py, radio: options[value], None without a value.
    ("mo.ui.radio(['A', 'B', 'C'])", None),
    ("mo.ui.radio(['A', 'B'], value='B')", "B"),
    ("mo.ui.radio({'one': 1, 'two': 2}, value='two')", 2),
    # input.py, dropdown: [value] or [] sent, options[value[0]] or None; a non-string value
    # of a list of options names its option by repr() (_to_option_name).
    ("mo.ui.dropdown(['Option A', 'Option B'])", None),
    ("mo.ui.dropdown(['a', 'b'], value='b')", "b"),
    ("mo.ui.dropdown({'one': 1, 'two': 2}, value='one')", 1),
    ("mo.ui.dropdown([1, 2, 3], value=2)", 2),
    # input.py, multiselect: list(value) or [], each mapped through options.
    ("mo.ui.multiselect(options=['Apples', 'Oranges'])", []),
    ("mo.ui.multiselect(['a', 'b', 'c'], value=['c', 'a'])", ["c", "a"]),
    ("mo.ui.multiselect({'x': 10, 'y': 20}, value=['y'])", [20]),
    # input.py, button: frontend value 0 converts to the button's `value`; run_button.py:
    # 0 converts to False.
    ("mo.ui.button()", None),
    ("mo.ui.button(value=0, on_click=lambda v: v + 1, label='increment')", 0),
    ("mo.ui.run_button(label='Run')", False),
    # input.py, file: tuple() of the (empty) uploads.
    ("mo.ui.file()", ()),
    # input.py, form: None until submitted (UIElement.form wraps it too).
    ("mo.ui.form(mo.ui.slider(1, 5))", None),
    ("mo.ui.slider(1, 5).form()", None),
    ("mo.md('{a}').batch(a=mo.ui.text()).form()", None),
    # array.py and dictionary.py / batch.py: the wrapped elements' values.
    ("mo.ui.array([mo.ui.text(), mo.ui.slider(1, 10)])", ["", 1]),
    ("mo.ui.dictionary({'name': mo.ui.text(), 'age': mo.ui.slider(1, 100)})",
     {"name": "", "age": 1}),
    ("mo.md('{start} to {end}').batch(start=mo.ui.number(1), end=mo.ui.checkbox())",
     {"start": 1, "end": False}),
    # dates.py, date: value, else start, else stop, else today; strings are YYYY-MM-DD.
    ("mo.ui.date(start='2024-03-01', stop='2024-04-01')", dt.date(2024, 3, 1)),
    ("mo.ui.date(value=dt.date(2023, 5, 6))", dt.date(2023, 5, 6)),
    ("mo.ui.date(stop='2020-01-02')", dt.date(2020, 1, 2)),
    # dates.py, date_range: (start, stop) when both given, else (today, today).
    ("mo.ui.date_range(start=dt.date(2023, 1, 1), stop=dt.date(2023, 12, 31))",
     (dt.date(2023, 1, 1), dt.date(2023, 12, 31))),
    ("mo.ui.date_range(value=('2023-02-01', '2023-02-03'))",
     (dt.date(2023, 2, 1), dt.date(2023, 2, 3))),
    # dates.py, datetime: sent as isoformat(timespec="seconds"), so no microseconds.
    ("mo.ui.datetime(value=dt.datetime(2024, 1, 2, 3, 4, 5, 678))",
     dt.datetime(2024, 1, 2, 3, 4, 5)),
    ("mo.ui.datetime(start='2024-01-02T03:04:05')", dt.datetime(2024, 1, 2, 3, 4, 5)),
    # tabs.py: the tab named `value`, else the first tab.
    ("mo.ui.tabs({'Bob says': mo.md('Hi'), 'Alice says': mo.md('Hello')})", "Bob says"),
    ("mo.ui.tabs({'a': 1, 'b': 2}, value='b')", "b"),
    # table.py: the selected rows of the data (initial_selection), None without selection.
    ("mo.ui.table([{'a': 1}, {'a': 2}])", []),
    ("mo.ui.table([{'a': 1}, {'a': 2}], initial_selection=[1])", [{"a": 2}]),
    ("mo.ui.table({'a': [1, 2, 3], 'b': [4, 5, 6]}, initial_selection=[0, 2])",
     {"a": [1, 3], "b": [4, 6]}),
    ("mo.ui.table([1, 2, 3], selection=None)", None),
    # matrix.py: the rows given (a flat list stays flat).
    ("mo.ui.matrix([[1, 0], [0, 1]])", [[1, 0], [0, 1]]),
    ("mo.ui.matrix([1.5, 2])", [1.5, 2]),
    # refresh.py "", chat/chat.py [], data_editor.py: the data with no edits.
    ("mo.ui.refresh()", ""),
    ("mo.ui.chat(lambda messages, config: 'ok')", []),
    ("mo.ui.data_editor([{'a': 1}])", [{"a": 1}]),
]


@pytest.mark.parametrize("expression,expected", INITIAL_VALUES,
                         ids=[e for e, _ in INITIAL_VALUES])
def test_ui_element_keeps_marimos_initial_value(expression: str, expected: object) -> None:
    value = eval(expression, {"mo": mo, "dt": dt}).value
    assert value == expected
    assert type(value) is type(expected)


def test_dates_without_bounds_are_today() -> None:
    assert mo.ui.date().value in TODAYS
    assert mo.ui.date_range().value[0] in TODAYS
    assert mo.ui.datetime().value.microsecond == 0


def test_ui_values_from_a_dataframe_column() -> None:
    pd = pytest.importorskip("pandas")
    column = pd.Series([3, None, 1, 2], name="n")
    # input.py, slider.from_series / get_number_series_info: float min and max, the name.
    assert mo.ui.slider.from_series(column).value == 1.0
    assert mo.ui.range_slider.from_series(column).value == [1.0, 3.0]
    assert mo.ui.number.from_series(column).start == 1.0
    # get_category_series_info: sorted distinct values without nulls.
    fruit = pd.Series(["pear", "apple", None, "pear"])
    assert list(mo.ui.dropdown.from_series(fruit).options) == ["apple", "pear"]
    frame = pd.DataFrame({"a": [1, 2, 3]})
    selected = mo.ui.table(frame, initial_selection=[0, 2]).value
    assert list(selected["a"]) == [1, 3] and list(mo.ui.table(frame).value.columns) == ["a"]
    assert mo.ui.dataframe(frame).value is frame


def test_ui_element_value_is_read_only_and_elements_compose() -> None:
    slider = mo.ui.slider(1, 10, value=3)
    with pytest.raises(RuntimeError, match="Setting the value of a UIElement"):
        slider.value = 5
    assert mo.ui.slider(1, 10).form().element.value == 1
    array = mo.ui.array([mo.ui.text("a"), mo.ui.text("b")])
    assert len(array) == 2 and array[1].value == "b" and [e.value for e in array] == ["a", "b"]
    dictionary = mo.ui.dictionary({"x": mo.ui.number(5)})
    assert dictionary["x"].value == 5 and "x" in dictionary and list(dictionary) == ["x"]
    dropdown = mo.ui.dropdown({"one": 1}, value="one")
    assert dropdown.selected_key == "one"
    with pytest.raises(ValueError, match="not a valid option"):
        mo.ui.dropdown(["a"], value="b")
    assert mo.ui.file().name() is None and mo.ui.file().contents() is None
    assert mo.ui.altair_chart(None).value is None  # kinds markbook does not model: None


def test_progress_bar_passes_the_items_through() -> None:
    """_progress.py, progress_bar.__iter__ yields the collection's items."""
    def total(xs: list[int]) -> int:
        return sum(x for x in mo.status.progress_bar(xs, title="Adding"))

    assert total([1, 2, 3]) == 6
    assert list(mo.status.progress_bar(range(0, 10, 3))) == [0, 3, 6, 9]
    assert list(mo.status.progress_bar(iter("abc"))) == ["a", "b", "c"]  # no len(): lenient
    bar = mo.status.progress_bar([5, 6])
    assert list(bar) == [5, 6] and bar.progress.current == 2 and bar.progress.total == 2
    steps = mo.status.progress_bar(range(0, 10, 5), total=2)  # a range counts its step
    list(steps)
    assert steps.progress.current == 10


def test_progress_bar_as_a_context_manager() -> None:
    with mo.status.progress_bar(total=3, title="Loading") as bar:
        for _ in range(3):
            bar.update()
    assert bar.current == 3 and bar.closed
    with pytest.raises(RuntimeError, match="cannot be updated after exiting"):
        bar.update()
    with pytest.raises(ValueError, match="`total` is required"):
        mo.status.progress_bar()


def test_async_progress_bar() -> None:
    async def numbers():  # type: ignore[no-untyped-def]
        for i in range(3):
            yield i

    async def collect() -> list[int]:
        return [i async for i in mo.status.progress_bar(numbers(), total=3)]

    assert asyncio.run(collect()) == [0, 1, 2]


def test_spinner_runs_its_block() -> None:
    ran = []
    with mo.status.spinner(title="Loading ...") as spinner:
        ran.append(True)
        spinner.update(title="Almost done")
    assert ran == [True] and spinner.title == "Almost done"
    mo.status.toast("done")


def test_running_outside_a_notebook() -> None:
    """context/utils.py, running_in_notebook: no runtime context, so False."""
    assert mo.running_in_notebook() is False
    assert mo.app_meta().mode is None and mo.app_meta().theme == "light"
    assert dict(mo.cli_args()) == {} and dict(mo.query_params()) == {}
    assert mo.output.replace("x") is None and mo.output.append("x") is None


def test_notebook_dir_is_the_notebooks_folder(tmp_path: pathlib.Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    submission = types.ModuleType("submission")
    submission.__file__ = str(tmp_path / "submission.py")
    monkeypatch.setitem(sys.modules, "submission", submission)
    monkeypatch.chdir("/")
    assert mo.notebook_dir() == tmp_path and isinstance(mo.notebook_dir(), pathlib.Path)
    assert mo.notebook_location() == tmp_path
    monkeypatch.delitem(sys.modules, "submission")
    assert mo.notebook_dir() == pathlib.Path("/")  # no notebook: the working directory


def test_state_setter_updates_the_getter() -> None:
    """state.py, SetFunctor.__call__: a function or method is applied to the value,
    anything else (a builtin too) becomes the value."""
    get_count, set_count = mo.state(0)
    assert get_count() == 0
    set_count(5)
    assert get_count() == 5
    set_count(lambda n: n + 1)
    assert get_count() == 6
    set_count(len)
    assert get_count() is len


def test_cache_calls_once_per_argument_content() -> None:
    calls: list[object] = []

    @mo.cache
    def total(xs: list[int]) -> int:
        calls.append(list(xs))
        return sum(xs)

    assert total([1, 2]) == 3 and total([1, 2]) == 3 and total([2, 2]) == 4
    assert calls == [[1, 2], [2, 2]]  # lists are fine: keyed by content, not hash()
    info = total.cache_info()
    assert (info.hits, info.misses, info.currsize, info.maxsize) == (1, 2, 2, None)
    total.cache_clear()
    total([1, 2])
    assert len(calls) == 3
    assert total.__name__ == "total" and total.__wrapped__ is not None


def test_cache_is_recursive_and_keeps_exceptions_out() -> None:
    calls = []

    @mo.cache
    def fib(n: int) -> int:
        calls.append(n)
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    assert fib(60) == 1548008755920 and len(calls) == 61

    failures = []

    @mo.cache(pin_modules=True)
    def flaky(n: int) -> int:
        failures.append(n)
        if len(failures) == 1:
            raise ValueError("first time")
        return n

    with pytest.raises(ValueError):
        flaky(1)
    assert flaky(1) == 1 and failures == [1, 1]


def test_lru_cache_bounds_its_size() -> None:
    calls = []

    @mo.lru_cache(maxsize=2)
    def square(n: int) -> int:
        calls.append(n)
        return n * n

    for n in (1, 2, 1, 3, 2, 1):
        square(n)
    # 1, 2 miss; 1 hits; 3 evicts 2; 2 misses and evicts 1; 1 misses.
    assert calls == [1, 2, 3, 2, 1]
    assert square.cache_info().maxsize == 2 and square.cache_info().currsize == 2

    @mo.lru_cache
    def plain(n: int) -> int:
        return n

    assert plain(1) == 1 and plain.cache_info().maxsize == 128


def test_cache_sees_a_rebound_global_and_caches_methods() -> None:
    namespace: dict[str, object] = {"mo": mo, "RATE": 2}
    exec("@mo.persistent_cache\ndef scaled(x):\n    return x * RATE\n", namespace)
    scaled = namespace["scaled"]
    assert scaled(3) == 6
    namespace["RATE"] = 10  # marimo keys on closed-over values too
    assert scaled(3) == 30

    class Box:
        def __init__(self, n: int) -> None:
            self.n = n
            self.calls = 0

        @mo.cache
        def double(self) -> int:
            self.calls += 1
            return self.n * 2

    box = Box(4)
    assert box.double() == 8 and box.double() == 8

    @mo.cache
    async def slow(x: int) -> int:
        return x + 1

    assert asyncio.run(slow(1)) == 2 and slow.cache_info().misses == 1


def test_cache_blocks_run_their_body() -> None:
    """save.py, _cache_context: allowed at a cell's top level only, where an import runs it
    once, with an empty cache."""
    with mo.cache("data") as block:
        value = 41 + 1
    with mo.persistent_cache(name="saved"):
        other = value * 2
    with mo.lru_cache("small", maxsize=3):
        third = other + 1
    assert (value, other, third) == (42, 84, 85) and block.hit is False


def test_stop_raises_marimo_stop_error_only_when_asked() -> None:
    """control_flow.py, stop: raises MarimoStopError(output), a BaseException."""
    mo.stop(False, mo.md("not stopped"))
    with pytest.raises(mo.MarimoStopError) as stopped:
        mo.stop(True, "why")
    assert stopped.value.output == "why"
    assert not isinstance(stopped.value, Exception)


def test_outputs_are_inert() -> None:
    for output in (mo.md("# Title"), mo.hstack([1, 2]), mo.vstack([]), mo.callout("x"),
                   mo.accordion({"a": 1}), mo.plain_text("x"), mo.tabs({"a": 1})):
        assert isinstance(output, mo.Html)
        assert output.center().callout("warn").style({"color": "red"}) is not None
    assert mo.md("**bold**").text == "**bold**"
    assert f"{mo.md('a')}" == "a"
    anything = mo.mpl.interactive(object())
    assert anything.whatever(1)[2] is anything
    with mo.capture_stdout() as buffer:
        print("hello")
    assert buffer.getvalue() == "hello\n"
    with mo.redirect_stdout():
        print("to the cell's output, which does not exist here")
    assert isinstance(buffer, io.StringIO)


def test_app_decorators_give_back_functions_and_classes() -> None:
    app = mo.App(width="medium")

    @app.function
    class Point:
        pass

    @app.class_definition(hide_code=True)
    def helper() -> int:
        return 1

    assert isinstance(Point, type) and helper() == 1
    with app.setup(hide_code=True):
        pass
    assert app.run() is None
