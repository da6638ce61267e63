"""Fixtures of the end-to-end tests (the helpers are in markbook_e2e.py)."""

import os

import pytest

from markbook_e2e import World, markbook_path


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    if not markbook_path().is_file() or not os.access(markbook_path(), os.X_OK):
        pytest.skip(f"no markbook binary at {markbook_path()} (run make, or set MARKBOOK)")
    w = World(tmp_path_factory.mktemp("e2e"))
    yield w
    w.close()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    """Which tests share a worker when tools/run-tests spreads them (xdist --dist loadgroup):
    a file's tests stay together, so its module-scoped server starts once, unless the file
    says SPREAD_TESTS = True (each test starts its own server), and then they spread."""
    for item in items:
        spread = getattr(item.module, "SPREAD_TESTS", False)
        item.add_marker(pytest.mark.xdist_group(item.nodeid if spread else item.module.__name__))
