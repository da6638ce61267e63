"""A stand-in for the `marimo` package, so notebooks load without marimo installed.

It behaves as real marimo does when a notebook is imported as a module (no kernel, no frontend):
the file's `app = marimo.App(...)`, `with app.setup:` and decorators work; UI elements exist and
`.value` is the element's initial value, computed by marimo's own rule for each kind;
`mo.status.progress_bar` and `mo.status.spinner` pass iterables through; `mo.notebook_dir()` is
the notebook's folder; `mo.running_in_notebook()` is False; `mo.state` gives a getter and a
setter; `mo.cache`, `mo.lru_cache` and `mo.persistent_cache` cache; `mo.stop(True)` raises
MarimoStopError, which the loader treats as marimo's script mode does. Outputs (`mo.md`,
`mo.hstack`, `mo.callout`, ...) are inert objects. Anything else is a harmless object that
absorbs calls and attribute access. CONTRIBUTING.md ("Loading a notebook: marimo's script mode
without marimo") names the file and function of marimo's source each piece mirrors, and where
markbook is more lenient than marimo.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import datetime as _dt
import functools
import inspect
import io
import os
import pathlib
import pickle
import sys
import threading
import types
from typing import Any, Callable, Iterator, Optional, Sequence

__version__ = "0.0.0+markbook-stand-in"


class _Anything:
    """Absorbs calls, attribute and item access, and `with`; for marimo's parts that only
    display something."""

    def __call__(self, *args: Any, **kwargs: Any) -> _Anything:
        return self

    def __getattr__(self, name: str) -> _Anything:
        # Dunder lookups (copy, pickle, pytest's introspection) must fail normally.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> _Anything:
        return self

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __enter__(self) -> _Anything:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def __repr__(self) -> str:
        return "<marimo stand-in>"


def _passthrough(obj: Any = None, *args: Any, **kwargs: Any) -> Any:
    """A decorator that works with or without arguments and returns the decorated object."""
    if callable(obj) and not args and not kwargs:
        return obj
    return _PassthroughDecorator()


class _PassthroughDecorator(_Anything):
    """What `@decorator(...)` returns: applied to an object, gives the object back."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]
        return self


# ---------------------------------------------------------------------------------------------
# The app: marimo/_ast/app.py (App, _SetupContext), marimo/_ast/cell_manager.py (cell_decorator)


class _Setup:
    """`app.setup`: a context manager, also when called as `app.setup(hide_code=True)`. Like
    marimo's _SetupContext it lets an exception in the block end the import."""

    def __call__(self, *args: Any, **kwargs: Any) -> _Setup:
        return self

    def __enter__(self) -> _Setup:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    async def __aenter__(self) -> _Setup:
        return self

    async def __aexit__(self, *exc: object) -> bool:
        return False


class App:
    """`marimo.App`: `@app.function` and `@app.class_definition` give back the decorated object
    (marimo's cell_decorator with top_level=True returns `obj`, functions and classes alike);
    `run()` does nothing. The loader runs `@app.cell` cells itself, never through this class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.setup = _Setup()

    def function(self, obj: Any = None, *args: Any, **kwargs: Any) -> Any:
        """`@app.function` and `@app.function(hide_code=True)`."""
        return _passthrough(obj, *args, **kwargs)

    def cell(self, obj: Any = None, *args: Any, **kwargs: Any) -> Any:
        """`@app.cell` and `@app.cell(hide_code=True)`."""
        return _passthrough(obj, *args, **kwargs)

    def class_definition(self, obj: Any = None, *args: Any, **kwargs: Any) -> Any:
        """`@app.class_definition` with or without arguments."""
        return _passthrough(obj, *args, **kwargs)

    def run(self, *args: Any, **kwargs: Any) -> None:
        """Running the notebook app is not something the grader does."""

    def _unparsable_cell(self, *args: Any, **kwargs: Any) -> None:
        """Cells marimo could not parse are stored as strings; they never run."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Anything()


# ---------------------------------------------------------------------------------------------
# Running outside a notebook: marimo/_runtime/context/utils.py, marimo/_runtime/runtime.py,
# marimo/_runtime/control_flow.py, marimo/_runtime/state.py


def running_in_notebook() -> bool:
    """False: imported as a module there is no marimo kernel (marimo's running_in_notebook()
    finds no runtime context)."""
    return False


def notebook_dir() -> Optional[pathlib.Path]:
    """The notebook's folder. marimo returns the current directory when there is no runtime
    context; markbook returns the folder of the notebook it loaded (the staging folder, also
    the working directory at load time), so a `chdir` in the notebook does not move it."""
    module = sys.modules.get("submission")
    path = getattr(module, "__file__", None)
    if isinstance(path, str) and path:
        return pathlib.Path(os.path.dirname(os.path.abspath(path)))
    return pathlib.Path.cwd()


def notebook_location() -> Optional[pathlib.PurePath]:
    """The same as notebook_dir() outside WebAssembly, as in marimo."""
    return notebook_dir()


class MarimoStopError(BaseException):
    """Raised by `mo.stop` to stop a cell and its descendants; a BaseException so that
    `except Exception` does not catch it, as in marimo."""

    def __init__(self, output: object = None) -> None:
        super().__init__(output)
        self.output = output


def stop(predicate: bool, output: object = None) -> None:
    """`mo.stop(predicate, output)`: raise MarimoStopError when `predicate` is true."""
    if predicate:
        raise MarimoStopError(output)


class State:
    """marimo's State: calling it reads the value."""

    def __init__(self, value: Any, allow_self_loops: bool = False) -> None:
        self._value = value
        self.allow_self_loops = allow_self_loops

    def __call__(self) -> Any:
        return self._value


class _SetFunctor:
    """marimo's SetFunctor: a function or method is applied to the current value, anything
    else (a builtin, a callable object) becomes the value."""

    def __init__(self, state_: State) -> None:
        self._state = state_

    def __call__(self, update: Any) -> None:
        if isinstance(update, (types.MethodType, types.FunctionType)):
            self._state._value = update(self._state._value)
        else:
            self._state._value = update


def state(value: Any, allow_self_loops: bool = False) -> tuple[State, _SetFunctor]:
    """`get, set_ = mo.state(v)`: the getter returns what the setter last set."""
    item = State(value, allow_self_loops)
    return item, _SetFunctor(item)


def defs() -> tuple[str, ...]:
    """No cell is running under a kernel: marimo returns no names."""
    return ()


def refs() -> tuple[str, ...]:
    """No cell is running under a kernel: marimo returns no names."""
    return ()


class _CliArgs(dict):  # type: ignore[type-arg]
    """`mo.cli_args()` and `mo.query_params()` outside a notebook: empty."""


def cli_args() -> _CliArgs:
    """No command line was given to the notebook."""
    return _CliArgs()


def query_params() -> _CliArgs:
    """No URL: no query parameters."""
    return _CliArgs()


class _AppMeta:
    """`mo.app_meta()` without a kernel: light theme, no mode, no request."""

    theme = "light"
    mode = None
    request = None


def app_meta() -> _AppMeta:
    """What marimo's AppMeta answers outside a notebook."""
    return _AppMeta()


Thread = threading.Thread
current_thread = threading.current_thread


@contextlib.contextmanager
def capture_stdout() -> Iterator[io.StringIO]:
    """`with mo.capture_stdout() as buffer:`: what is printed goes into `buffer`."""
    with contextlib.redirect_stdout(io.StringIO()) as buffer:
        yield buffer


@contextlib.contextmanager
def capture_stderr() -> Iterator[io.StringIO]:
    """`with mo.capture_stderr() as buffer:`: what is written to stderr goes into `buffer`."""
    with contextlib.redirect_stderr(io.StringIO()) as buffer:
        yield buffer


@contextlib.contextmanager
def redirect_stdout() -> Iterator[None]:
    """Printing goes to the cell's output, which does not exist outside a notebook."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


@contextlib.contextmanager
def redirect_stderr() -> Iterator[None]:
    """Like redirect_stdout(), for stderr."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


class _Output:
    """`mo.output`: a cell's output area; outside a notebook there is none, as in marimo."""

    @staticmethod
    def append(value: object) -> None:
        """Does nothing without a running cell."""

    @staticmethod
    def replace(value: object) -> None:
        """Does nothing without a running cell."""

    @staticmethod
    def replace_at_index(value: object, idx: int) -> None:
        """Does nothing without a running cell."""

    @staticmethod
    def clear() -> None:
        """Does nothing without a running cell."""

    @staticmethod
    def flush() -> None:
        """Does nothing without a running cell."""


output = _Output()


# ---------------------------------------------------------------------------------------------
# Caching: marimo/_save/save.py (cache, lru_cache, persistent_cache, _cache_call),
# marimo/_save/cache.py (CacheInfo), marimo/_save/loaders/memory.py (MemoryLoader's LRU)

CacheInfo = collections.namedtuple("CacheInfo",
                                   ["hits", "misses", "maxsize", "currsize", "time_saved"])
_NO_KEY = object()


def _cache_key(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The call's key: the arguments by content (pickled, so lists and arrays work, as
    marimo's hashing does) and the data the function reads from its globals and closure by
    identity. _NO_KEY when an argument cannot be pickled: that call is not cached."""
    code = getattr(fn, "__code__", None)
    closed: list[Any] = []
    if code is not None:
        glbls = getattr(fn, "__globals__", {})
        for name in code.co_names:
            if name in glbls and not callable(glbls[name]) \
                    and not isinstance(glbls[name], types.ModuleType):
                closed.append((name, id(glbls[name])))
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                closed.append(id(cell.cell_contents))
            except ValueError:  # an empty cell: the name is not bound yet
                closed.append(None)
    try:
        return pickle.dumps((args, sorted(kwargs.items()), closed), protocol=4)
    except Exception:  # noqa: BLE001 - whatever pickling a student's object raises
        return _NO_KEY


def _cached(fn: Callable[..., Any], maxsize: Optional[int]) -> Callable[..., Any]:
    """A plain function wrapping `fn` with a cache of at most `maxsize` entries (None: no
    bound), least recently used first out; exceptions are not cached. It carries marimo's
    cache_info(), cache_clear(), hits and misses, and `fn`'s name, docstring and signature."""
    entries: collections.OrderedDict[Any, Any] = collections.OrderedDict()
    lock = threading.Lock()

    def lookup(key: Any) -> tuple[bool, Any]:
        with lock:
            if key is not _NO_KEY and key in entries:
                entries.move_to_end(key)
                wrapper.hits += 1
                return True, entries[key]
        return False, None

    def store(key: Any, value: Any) -> None:
        with lock:
            wrapper.misses += 1
            if key is _NO_KEY:
                return
            entries[key] = value
            while maxsize is not None and len(entries) > maxsize:
                entries.popitem(last=False)

    if inspect.iscoroutinefunction(fn):
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = _cache_key(fn, args, kwargs)
            hit, value = lookup(key)
            if not hit:
                value = await fn(*args, **kwargs)
                store(key, value)
            return value
    else:
        def wrapper(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            key = _cache_key(fn, args, kwargs)
            hit, value = lookup(key)
            if not hit:
                value = fn(*args, **kwargs)
                store(key, value)
            return value

    def cache_info() -> CacheInfo:
        return CacheInfo(wrapper.hits, wrapper.misses, maxsize, len(entries), 0.0)

    def cache_clear() -> None:
        with lock:
            entries.clear()

    functools.update_wrapper(wrapper, fn)
    wrapper.hits = 0  # type: ignore[attr-defined]
    wrapper.misses = 0  # type: ignore[attr-defined]
    wrapper.cache_info = cache_info  # type: ignore[attr-defined]
    wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
    return wrapper


class _CacheBlock:
    """`with mo.cache("name"):` and the other caches as context managers. marimo allows these
    only at a cell's top level, where an import runs the block once with an empty cache, so
    the block simply runs (marimo would skip it on a hit, restoring its variables)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.hit = False

    def __enter__(self) -> _CacheBlock:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def cache_info(self) -> CacheInfo:
        """No hits: the block ran."""
        return CacheInfo(0, 0, None, 0, 0.0)


def _cache_entry(arg: Any, maxsize: Optional[int]) -> Any:
    """marimo's _cache_invocation: a function is wrapped, a name makes a block context,
    nothing (`@mo.cache(...)` with options) gives a decorator."""
    if isinstance(arg, str):
        return _CacheBlock(arg)
    if arg is None:
        return lambda fn: _cached(fn, maxsize)
    if callable(arg):
        return _cached(arg, maxsize)
    raise TypeError(f"Invalid type for cache: {type(arg)}")


def cache(name: Any = None, *args: Any, **kwargs: Any) -> Any:
    """`@mo.cache`, `@mo.cache(pin_modules=True)`, `with mo.cache("name"):`; no size bound."""
    return _cache_entry(name, None)


def lru_cache(name: Any = None, maxsize: int = 128, *args: Any, **kwargs: Any) -> Any:
    """`@mo.lru_cache`, `@mo.lru_cache(maxsize=n)`: at most `maxsize` entries (128 by
    default; -1 for no bound, as in marimo)."""
    return _cache_entry(name, None if maxsize is None or maxsize < 0 else maxsize)


def persistent_cache(name: Any = None, *args: Any, **kwargs: Any) -> Any:
    """`@mo.persistent_cache` and `with mo.persistent_cache("name"):`. Kept in memory: a
    grading starts with no saved cache, which is where marimo's would start too."""
    return _cache_entry(name, None)


# ---------------------------------------------------------------------------------------------
# Outputs: marimo/_output/hypertext.py (Html), marimo/_output/md.py, marimo/_plugins/stateless/


class Html:
    """marimo's Html: an output. It keeps the text it was made from (markdown is not
    rendered) and its layout methods give more inert Html."""

    def __init__(self, text: str = "") -> None:
        self._text = text if isinstance(text, str) else str(text)

    @property
    def text(self) -> str:
        """The text the output was made from."""
        return self._text

    def batch(self, **elements: UIElement) -> batch:
        """`mo.md("{x}").batch(x=mo.ui.slider(1, 5))`: one element whose value is a dict."""
        return batch(self, elements)

    def center(self) -> Html:
        """An inert output."""
        return Html(self._text)

    left = right = center

    def callout(self, kind: str = "neutral") -> Html:
        """An inert output."""
        return Html(self._text)

    def style(self, *args: Any, **kwargs: Any) -> Html:
        """An inert output."""
        return Html(self._text)

    def _repr_html_(self) -> str:
        return self._text

    def _mime_(self) -> tuple[str, str]:
        return ("text/html", self._text)

    def __format__(self, spec: str) -> str:
        return self._text

    def __getattr__(self, name: str) -> Any:
        # Display methods markbook does not know are inert; private names fail normally.
        if name.startswith("_"):
            raise AttributeError(name)
        return _Anything()


def md(text: str = "", *args: Any, **kwargs: Any) -> Html:
    """`mo.md(text)`: an inert output holding `text`."""
    return Html(text)


def _output_fn(*args: Any, **kwargs: Any) -> Html:
    """The layout and display functions (`mo.hstack`, `mo.callout`, ...): an inert output."""
    return Html("")


hstack = vstack = callout = accordion = carousel = center = left = right = _output_fn
as_html = plain = plain_text = image = audio = video = pdf = download = json = _output_fn
tree = stat = sidebar = nav_menu = routes = lazy = outline = mermaid = icon = _output_fn
iframe = style = latex = show_code = image_compare = tabs = _output_fn


# ---------------------------------------------------------------------------------------------
# Status: marimo/_plugins/stateless/status/_progress.py (progress_bar, spinner, ProgressBar)


class _Progress(Html):
    """marimo's _Progress: counts what was done; updating it after it closed is an error."""

    def __init__(self, title: Optional[str], subtitle: Optional[str],
                 total: Optional[int]) -> None:
        super().__init__("")
        self.title, self.subtitle, self.total = title, subtitle, total
        self.current = 0
        self.closed = False

    def update_progress(self, increment: int = 1, title: Optional[str] = None,
                        subtitle: Optional[str] = None) -> None:
        """Count `increment` more; RuntimeError once the bar's `with` block ended."""
        if self.closed:
            raise RuntimeError("Progress indicators cannot be updated after exiting the "
                               "context manager that created them. ")
        self.current += increment
        if title is not None:
            self.title = title
        if subtitle is not None:
            self.subtitle = subtitle

    def clear(self) -> None:
        """Removes the output in marimo; nothing to remove here."""
        if self.closed:
            raise RuntimeError("Progress indicators cannot be updated after exiting the "
                               "context manager that created them. ")

    def close(self) -> None:
        """No more updates."""
        self.closed = True


class ProgressBar(_Progress):
    """What `with mo.status.progress_bar(total=n) as bar:` gives: `bar.update()`."""

    def update(self, increment: int = 1, title: Optional[str] = None,
               subtitle: Optional[str] = None) -> None:
        """Count `increment` more items."""
        self.update_progress(increment, title, subtitle)


class Spinner(_Progress):
    """What `with mo.status.spinner() as s:` gives: `s.update(title=...)`."""

    def update(self, title: Optional[str] = None, subtitle: Optional[str] = None) -> None:
        """Change the spinner's title or subtitle."""
        self.update_progress(1, title, subtitle)


class progress_bar:
    """`for x in mo.status.progress_bar(xs):` yields the items of `xs` (a range counts its
    step); `with mo.status.progress_bar(total=n) as bar:` gives a ProgressBar. Without a
    `total`, marimo refuses an iterable that has no len(); markbook lets it through."""

    def __init__(self, collection: Any = None, *, title: Optional[str] = None,
                 subtitle: Optional[str] = None, completion_title: Optional[str] = None,
                 completion_subtitle: Optional[str] = None, total: Optional[int] = None,
                 show_rate: bool = True, show_eta: bool = True, remove_on_exit: bool = False,
                 disabled: bool = False, **kwargs: Any) -> None:
        self.collection = collection
        self.completion_title = completion_title
        self.completion_subtitle = completion_subtitle
        self.remove_on_exit = remove_on_exit
        self.disabled = disabled
        self.step = 1
        if collection is not None:
            if total is None and hasattr(collection, "__len__"):
                total = len(collection)
            elif isinstance(collection, range):
                self.step = collection.step
        elif total is None:
            raise ValueError("`total` is required when using as a context manager")
        self.progress = ProgressBar(title, subtitle, total)

    def __iter__(self) -> Iterator[Any]:
        if self.collection is None:
            raise RuntimeError(
                "progress_bar can only be iterated over if a collection is provided")
        if hasattr(self.collection, "__aiter__") and not hasattr(self.collection, "__iter__"):
            raise RuntimeError("Cannot iterate over an async collection with `for`. Use "
                               "`async for` instead.")
        try:
            for item in self.collection:
                yield item
                if not self.disabled:
                    self.progress.update(increment=self.step)
        finally:
            self._finish()

    async def __aiter__(self) -> Any:
        if self.collection is None or not hasattr(self.collection, "__aiter__"):
            raise RuntimeError("Cannot iterate over a sync collection with `async for`. Use "
                               "`for` instead.")
        try:
            async for item in self.collection:
                yield item
                if not self.disabled:
                    self.progress.update(increment=self.step)
        finally:
            self._finish()

    def __enter__(self) -> ProgressBar:
        return self.progress

    def __exit__(self, *exc: object) -> None:
        self._finish()

    def _finish(self) -> None:
        if self.progress.closed:
            return
        self.progress.update(increment=0, title=self.completion_title,
                             subtitle=self.completion_subtitle)
        self.progress.close()


class spinner:
    """`with mo.status.spinner(title=...) as s:` runs its block; `s` is a Spinner."""

    def __init__(self, title: Optional[str] = None, subtitle: Optional[str] = None,
                 remove_on_exit: bool = True, **kwargs: Any) -> None:
        self.title, self.subtitle, self.remove_on_exit = title, subtitle, remove_on_exit
        self.spinner = Spinner(title, subtitle, None)

    def __enter__(self) -> Spinner:
        return self.spinner

    def __exit__(self, *exc: object) -> None:
        self.spinner.close()


def toast(*args: Any, **kwargs: Any) -> None:
    """A notification in the browser; nothing to show here."""


class _Namespace(types.SimpleNamespace):
    """A marimo namespace (`mo.status`, `mo.ui`): what it does not name is inert."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Anything()


status = _Namespace(progress_bar=progress_bar, spinner=spinner, toast=toast,
                    ProgressBar=ProgressBar, Spinner=Spinner)


# ---------------------------------------------------------------------------------------------
# UI elements: marimo/_plugins/ui/_core/ui_element.py (UIElement: value, form) and each kind's
# file in marimo/_plugins/ui/_impl/. Each constructor takes marimo's positional parameters in
# marimo's order, computes the initial value as marimo's __init__ and _convert_value do, and
# accepts keyword arguments it does not know (a newer marimo's options).


class UIElement(Html):
    """marimo's UIElement: `.value` is the initial value, converted as the kind converts what
    the browser sends; assigning to it is an error, as in marimo."""

    def __init__(self, initial_value: Any, label: str = "",
                 on_change: Optional[Callable[[Any], None]] = None) -> None:
        super().__init__(label if isinstance(label, str) else "")
        self._label = label
        self._on_change = on_change
        self._initial_value_frontend = initial_value
        self._value = self._convert_value(initial_value)

    def _convert_value(self, value: Any) -> Any:
        return value

    @property
    def value(self) -> Any:
        """The element's value: the initial one, as no one can interact with it here."""
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        raise RuntimeError("Setting the value of a UIElement is not allowed. If you need to "
                           "imperatively set the value of a UIElement, consider using "
                           "mo.state().")

    def form(self, label: str = "", **kwargs: Any) -> form:
        """A form around this element: its value is None until submitted."""
        return form(self, label=label, **kwargs)

    def _clone(self) -> UIElement:
        return copy.copy(self)

    def __bool__(self) -> bool:
        return True


def _to_option_name(option: Any) -> str:
    """marimo's _to_option_name: strings stay, anything else is named by its repr()."""
    return option if isinstance(option, str) else repr(option)


def _option(options: dict[str, Any], name: Any) -> Any:
    """The option called `name`; ValueError naming the valid ones, as marimo's
    _validate_option_name raises."""
    if name not in options:
        raise ValueError(f"The option name '{name}' is not a valid option. Please use one of "
                         f"the following options: {list(options.keys())}")
    return options[name]


def _option_map(options: Any) -> dict[str, Any]:
    """The {name: option} map of a dropdown or multiselect's options."""
    if isinstance(options, dict):
        return options
    return {_to_option_name(o): o for o in options}


def _infer_dtype(items: Sequence[Any]) -> type:
    """marimo's _infer_dtype: float when any item (or any number in an item that is a
    sequence) is a float, int otherwise."""
    for item in items:
        if isinstance(item, (list, tuple)) and any(isinstance(x, float) for x in item):
            return float
    return float if any(isinstance(item, float) for item in items) else int


def _as_list(steps: Any) -> list[Any]:
    """A numpy array of steps becomes a list, as marimo's _convert_numpy_array does."""
    return steps.tolist() if hasattr(steps, "tolist") else list(steps)


class _NumberSeries(UIElement):
    """The numeric kinds. `from_series(df["col"])`: bounds from the series' minimum and
    maximum as floats, label from its name (marimo's get_number_series_info). Sliders with
    `steps` hold the index of a step, as marimo's frontend does."""

    _mapping: Optional[dict[int, Any]] = None
    _dtype: type = float

    def _use_steps(self, steps: Any) -> list[Any]:
        steps = _as_list(steps)
        self._dtype = _infer_dtype(steps)
        self._mapping = dict(enumerate(steps))
        self.start, self.stop, self.step, self.steps = steps[0], steps[-1], None, steps
        return steps

    def _number(self, value: Any) -> Any:
        if self._mapping is not None:
            return self._dtype(self._mapping[int(value)])
        return self._dtype(value)

    @classmethod
    def from_series(cls, series: Any, **kwargs: Any) -> Any:
        data = series.dropna()
        return cls(start=kwargs.pop("start", float(data.min())),
                   stop=kwargs.pop("stop", float(data.max())),
                   label=kwargs.pop("label", str(series.name or "")), **kwargs)


class _CategorySeries(UIElement):
    """`from_series(df["col"])` of the choice kinds: the series' sorted distinct values as
    options, label from its name (marimo's get_category_series_info)."""

    @classmethod
    def from_series(cls, series: Any, **kwargs: Any) -> Any:
        return cls(options=kwargs.pop("options", sorted(series.dropna().unique().tolist())),
                   label=kwargs.pop("label", str(series.name or "")), **kwargs)


class number(_NumberSeries):
    """`value`, else `start`, else `stop`, else None."""

    def __init__(self, start: Any = None, stop: Any = None, step: Any = None,
                 value: Any = None, debounce: bool = False, *, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        if value is None:
            value = start if start is not None else stop
        self.start, self.stop, self.step = start, stop, step
        super().__init__(value, label, on_change)


class slider(_NumberSeries):
    """`value` (else `start`) as int, or float when any of start, stop, step and value is a
    float; with `steps`, the step equal to `value` (else the first step)."""

    def __init__(self, start: Any = None, stop: Any = None, step: Any = None,
                 value: Any = None, debounce: bool = False, disabled: bool = False,
                 orientation: str = "horizontal", show_value: bool = False,
                 include_input: bool = False, steps: Any = None, *, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        if steps is not None:
            steps = self._use_steps(steps)
            value = steps[0] if value is None else value
            super().__init__(steps.index(value) if value in steps else 0, label, on_change)
            return
        self._dtype = _infer_dtype([start, stop, step, value])
        value = start if value is None else value
        self.start, self.stop, self.step, self.steps = start, stop, step, None
        super().__init__(value, label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return self._number(value)


class range_slider(_NumberSeries):
    """`value` (else [start, stop]) as a list, typed as slider does; with `steps`, the steps
    equal to the value's ends (else the first and last step)."""

    def __init__(self, start: Any = None, stop: Any = None, step: Any = None,
                 value: Any = None, debounce: bool = False, orientation: str = "horizontal",
                 show_value: bool = False, steps: Any = None, *, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        if steps is not None:
            steps = self._use_steps(steps)
            value = [steps[0], steps[-1]] if value is None else value
            if all(v in steps for v in value):
                indexes = [steps.index(v) for v in value]
            else:
                indexes = [0, len(steps) - 1]
            super().__init__(indexes, label, on_change)
            return
        self._dtype = _infer_dtype([start, stop, step, value])
        value = [start, stop] if value is None else value
        self.start, self.stop, self.step, self.steps = start, stop, step, None
        super().__init__(list(value), label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return [self._number(v) for v in value]


class checkbox(UIElement):
    """`value`, False by default."""

    def __init__(self, value: bool = False, *, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(value, label, on_change)


class switch(checkbox):
    """`value`, False by default."""


class radio(_CategorySeries):
    """The option named `value`, None when no value is given."""

    def __init__(self, options: Any, value: Any = None, inline: bool = False, *,
                 label: str = "", on_change: Any = None, **kwargs: Any) -> None:
        self.options = options if isinstance(options, dict) else {o: o for o in options}
        super().__init__(value, label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return None if value is None else _option(self.options, value)


class text(UIElement):
    """`value`, "" by default."""

    def __init__(self, value: str = "", placeholder: str = "", *args: Any, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        super().__init__(value, label, on_change)


text_area = code_editor = text


class dropdown(_CategorySeries):
    """The option named `value` (a non-string value names the option by its repr()), None
    when no value is given."""

    def __init__(self, options: Any, value: Any = None, allow_select_none: Any = None,
                 searchable: bool = False, *, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        if not isinstance(options, dict) and value is not None and not isinstance(value, str):
            value = _to_option_name(value)
        self.options = _option_map(options)
        self._selected_key: Optional[str] = None
        super().__init__([value] if value is not None else [], label, on_change)

    def _convert_value(self, value: list[Any]) -> Any:
        self._selected_key = value[0] if value else None
        return _option(self.options, value[0]) if value else None

    @property
    def selected_key(self) -> Optional[str]:
        """The selected option's name, or None."""
        return self._selected_key


class multiselect(_CategorySeries):
    """The options named in `value`, in that order; [] by default."""

    def __init__(self, options: Any, value: Any = None, *, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        if not isinstance(options, dict) and value is not None and not isinstance(value, str):
            value = [_to_option_name(v) for v in value]
        self.options = _option_map(options)
        super().__init__(list(value) if value is not None else [], label, on_change)

    def _convert_value(self, value: list[Any]) -> list[Any]:
        return [_option(self.options, v) for v in value]


class button(UIElement):
    """`value` (None by default): the button was never clicked."""

    def __init__(self, on_click: Any = None, value: Any = None, *args: Any, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        self._on_click = on_click
        self._initial = value
        super().__init__(0, label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return self._initial


class run_button(UIElement):
    """False: the button was never clicked."""

    def __init__(self, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(0, label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return value != 0


class FileUploadResults:
    """An uploaded file's name and contents (never made here: nothing is uploaded)."""

    def __init__(self, name: str, contents: bytes) -> None:
        self.name, self.contents = name, contents


class file(UIElement):
    """An empty tuple: no file was uploaded; name() and contents() are None."""

    def __init__(self, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        super().__init__([], label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return tuple(value)

    def name(self, index: int = 0) -> Optional[str]:
        """The name of the file at `index`: None, as none was uploaded."""
        return None

    def contents(self, index: int = 0) -> Optional[bytes]:
        """The contents of the file at `index`: None, as none was uploaded."""
        return None


class file_browser(UIElement):
    """An empty list: nothing selected."""

    def __init__(self, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        super().__init__([], label, on_change)

    def path(self, index: int = 0) -> Optional[pathlib.Path]:
        """The selected path at `index`: None."""
        return None

    def name(self, index: int = 0) -> Optional[str]:
        """The selected name at `index`: None."""
        return None


class form(UIElement):
    """None: the form was never submitted. `.element` is a copy of the wrapped element."""

    def __init__(self, element: UIElement, *, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        self.element = element._clone() if isinstance(element, UIElement) else element
        super().__init__(None, label, on_change)


class _Composite(UIElement):
    """An element made of elements (array, batch, dictionary): a container of them."""

    _elements: Any

    @property
    def elements(self) -> Any:
        """The wrapped elements."""
        return self._elements

    def __len__(self) -> int:
        return len(self._elements)

    def __getitem__(self, key: Any) -> UIElement:
        return self._elements[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._elements)

    def __reversed__(self) -> Iterator[Any]:
        return reversed(self._elements)

    def __contains__(self, item: object) -> bool:
        return item in self._elements


class array(_Composite):
    """The list of the (copied) elements' values."""

    def __init__(self, elements: Sequence[UIElement], *, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        self._elements = [e._clone() for e in elements]
        super().__init__({str(i): e._initial_value_frontend
                          for i, e in enumerate(self._elements)}, label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return [e.value for e in self._elements]


class batch(_Composite):
    """The dict of the elements' values, by name."""

    def __init__(self, html: Any, elements: dict[str, UIElement], *, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        self._elements = dict(elements)
        super().__init__({k: e._initial_value_frontend for k, e in self._elements.items()},
                         label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return {key: e.value for key, e in self._elements.items()}

    def get(self, key: str, default: Any = None) -> Any:
        """The element named `key`, or `default`."""
        return self._elements.get(key, default)

    def items(self) -> Any:
        """(name, element) pairs."""
        return self._elements.items()

    def values(self) -> Any:
        """The elements."""
        return self._elements.values()

    def keys(self) -> Any:
        """The names."""
        return self._elements.keys()


class dictionary(batch):
    """The dict of the (copied) elements' values, by name."""

    def __init__(self, elements: dict[str, UIElement], *, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        super().__init__(Html(""), {k: e._clone() for k, e in elements.items()},
                         label=label, on_change=on_change)


def _parse_date(value: Any) -> _dt.date:
    """A date from a date, a datetime (its day) or an ISO "YYYY-MM-DD" string."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.datetime.strptime(value, "%Y-%m-%d").date()


def _parse_datetime(value: Any) -> _dt.datetime:
    """A datetime from a datetime, a date or an ISO string, as marimo's datetime reads it."""
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H", "%Y-%m-%dT%H:%M",
                "%Y-%m-%dT%H:%M:%S.%f"):
        try:
            return _dt.datetime.strptime(value, fmt)
        except ValueError:
            pass
    raise ValueError(f"Invalid datetime format: {value}")


class date(UIElement):
    """`value`, else `start`, else `stop`, else today, as a datetime.date."""

    def __init__(self, start: Any = None, stop: Any = None, value: Any = None, *,
                 label: str = "", on_change: Any = None, **kwargs: Any) -> None:
        start = None if start is None else _parse_date(start)
        stop = None if stop is None else _parse_date(stop)
        if value is None:
            value = start if start is not None else stop if stop is not None \
                else _dt.date.today()
        self.start = start or _dt.date(_dt.MINYEAR, 1, 1)
        self.stop = stop or _dt.date(_dt.MAXYEAR, 12, 31)
        super().__init__(_parse_date(value), label, on_change)

    @staticmethod
    def from_series(series: Any, **kwargs: Any) -> date:
        """Bounds from the series' first and last day."""
        data = series.dropna()
        return date(start=kwargs.pop("start", data.min().strftime("%Y-%m-%d")),
                    stop=kwargs.pop("stop", data.max().strftime("%Y-%m-%d")),
                    label=kwargs.pop("label", str(series.name or "")), **kwargs)


class datetime(UIElement):
    """`value`, else `start`, else `stop`, else now, to the second (marimo sends it as an ISO
    string without fractions of a second)."""

    def __init__(self, start: Any = None, stop: Any = None, value: Any = None, *,
                 label: str = "", on_change: Any = None, **kwargs: Any) -> None:
        start = None if start is None else _parse_datetime(start)
        stop = None if stop is None else _parse_datetime(stop)
        if value is None:
            value = start if start is not None else stop if stop is not None \
                else _dt.datetime.today()
        self.start = start or _dt.datetime.min
        self.stop = stop or _dt.datetime.max
        super().__init__(_parse_datetime(value).replace(microsecond=0), label, on_change)


class date_range(UIElement):
    """`value` as a pair of dates, else (start, stop) when both are given, else (today,
    today)."""

    def __init__(self, start: Any = None, stop: Any = None, value: Any = None, *,
                 label: str = "", on_change: Any = None, **kwargs: Any) -> None:
        start = None if start is None else _parse_date(start)
        stop = None if stop is None else _parse_date(stop)
        if value is not None:
            pair = (_parse_date(value[0]), _parse_date(value[1]))
        elif start is None or stop is None:
            pair = (_dt.date.today(), _dt.date.today())
        else:
            pair = (start, stop)
        self.start = start or _dt.date(_dt.MINYEAR, 1, 1)
        self.stop = stop or _dt.date(_dt.MAXYEAR, 12, 31)
        super().__init__(pair, label, on_change)


class ui_tabs(UIElement):
    """`mo.ui.tabs`: the tab named `value`, else the first tab's name ("" without tabs)."""

    def __init__(self, tabs: dict[str, Any], value: Any = None, lazy: bool = False, *,
                 label: str = "", on_change: Any = None, **kwargs: Any) -> None:
        self._tab_keys = list(tabs.keys())
        super().__init__(value if value in self._tab_keys else "", label, on_change)

    def _convert_value(self, value: Any) -> Any:
        if not value:
            return self._tab_keys[0] if self._tab_keys else ""
        return value


class refresh(UIElement):
    """"": it never ticked."""

    def __init__(self, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        super().__init__("", label, on_change)


class microphone(UIElement):
    """An empty io.BytesIO: nothing was recorded."""

    def __init__(self, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        super().__init__("", label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return io.BytesIO(b"")


class chat(UIElement):
    """An empty list: no messages."""

    def __init__(self, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        super().__init__([], label, on_change)


def _table_rows(data: Any, indexes: list[int]) -> Any:
    """The rows of `data` at `indexes`, in the shape marimo's table managers give them."""
    if hasattr(data, "iloc"):  # a pandas DataFrame
        return data.iloc[indexes]
    if isinstance(data, dict):
        if all(isinstance(v, (list, tuple)) for v in data.values()):  # column-oriented
            return {k: [v[i] for i in indexes] for k, v in data.items()}
        rows = [{"key": k, "value": v} for k, v in data.items()]
        return [rows[i] for i in indexes]
    return [data[i] for i in indexes]


class table(UIElement):
    """The selected rows: those of `initial_selection`, none by default (an empty list, or
    an empty DataFrame with the same columns); None when `selection=None`."""

    def __init__(self, data: Any, pagination: Any = None, selection: Any = "multi",
                 initial_selection: Any = None, *args: Any, label: str = "",
                 on_change: Any = None, **kwargs: Any) -> None:
        self.data = data
        self._selection = selection
        super().__init__(list(initial_selection or []), label, on_change)

    def _convert_value(self, value: list[Any]) -> Any:
        if self._selection is None:
            return None
        if self._selection in ("single-cell", "multi-cell"):
            return [{"rowId": v[0], "columnName": v[1]} for v in value]
        return _table_rows(self.data, [int(v) for v in value])


class data_editor(UIElement):
    """The data with no edits (a copy for a list or dict, the same DataFrame otherwise)."""

    def __init__(self, data: Any, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        self.data = data
        super().__init__({"edits": []}, label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return copy.deepcopy(self.data) if isinstance(self.data, (list, dict)) else self.data


class dataframe(UIElement):
    """The DataFrame with no transforms applied: the DataFrame itself."""

    def __init__(self, df: Any, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        self.data = df
        super().__init__({"transforms": []}, label, on_change)

    def _convert_value(self, value: Any) -> Any:
        return self.data


class matrix(UIElement):
    """`value` as a list of rows (a vector stays a flat list)."""

    def __init__(self, value: Any, *args: Any, label: str = "", on_change: Any = None,
                 **kwargs: Any) -> None:
        rows = value.tolist() if hasattr(value, "tolist") else [
            list(r) if isinstance(r, (list, tuple)) else r for r in value]
        super().__init__(rows, label, on_change)


class _UIKinds(_Namespace):
    """`mo.ui`: the kinds above; any other kind (a chart, a widget) is an element whose
    value is None."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return lambda *args, label="", on_change=None, **kwargs: UIElement(None, label,
                                                                             on_change)


ui = _UIKinds(
    number=number, slider=slider, range_slider=range_slider, checkbox=checkbox, switch=switch,
    radio=radio, text=text, text_area=text_area, code_editor=code_editor, dropdown=dropdown,
    multiselect=multiselect, button=button, run_button=run_button, file=file,
    file_browser=file_browser, form=form, array=array, batch=batch, dictionary=dictionary,
    date=date, datetime=datetime, date_range=date_range, tabs=ui_tabs, refresh=refresh,
    microphone=microphone, chat=chat, table=table, data_editor=data_editor,
    dataframe=dataframe, matrix=matrix, UIElement=UIElement)


def __getattr__(name: str) -> Any:
    """Any other `marimo.x` is a harmless stand-in (`mo.sql`, `mo.mpl`, `mo.watch`, ...)."""
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return _Anything()
