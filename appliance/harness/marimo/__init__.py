"""A stand-in for the `marimo` package, so notebooks load without marimo installed.

Only what a notebook file does at import time is real: `marimo.App(...)`, `with app.setup:`
(also `with app.setup(hide_code=True):` and `async with`), and the `@app.function`,
`@app.cell` and `@app.class_definition` decorators, which return the decorated object itself.
Everything else (`mo.md`, `mo.callout`, `mo.ui.slider(...)`, ...) is a harmless object that
returns more of itself, so setup blocks and cells that build UI elements do not crash.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

__version__ = "0.0.0+markbook-stand-in"


class _Anything:
    """Absorbs calls, attribute and item access, and `with`; used for the UI parts of marimo."""

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


class _Setup:
    """`app.setup`: a context manager, also when called as `app.setup(hide_code=True)`."""

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
    """`marimo.App`: its decorators return the decorated object, `run()` does nothing."""

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


# Caching decorators must keep the decorated function usable (`@mo.cache def f(...)`).
cache = _passthrough
lru_cache = _passthrough
persistent_cache = _passthrough


def state(value: Any, *args: Any, **kwargs: Any) -> tuple[Callable[[], Any], Callable[..., None]]:
    """`get, set_ = mo.state(v)`: a getter for the initial value and a setter that does nothing."""
    return (lambda: value), (lambda *a, **k: None)


def stop(*args: Any, **kwargs: Any) -> None:
    """`mo.stop(...)` halts a cell in marimo; outside marimo there is nothing to stop."""


def __getattr__(name: str) -> Any:
    """Any other `marimo.x` is a harmless stand-in (`mo.md`, `mo.ui.slider(...)`, ...)."""
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return _Anything()
