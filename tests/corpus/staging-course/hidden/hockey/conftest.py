"""Fixtures of the hockey tests: the public data as the tests read it themselves (the
staged copy beside the notebook, data/canucks.csv) and the hidden season's salaries."""

from pathlib import Path

import pandas as pd
import pytest

HERE = Path(__file__).parent


@pytest.fixture
def canucks() -> pd.DataFrame:
    """data/canucks.csv, read in the tests' working directory, where markbook stages the
    exercise's data files as the scaffold lays them out."""
    return pd.read_csv("data/canucks.csv")


@pytest.fixture
def salaries() -> pd.DataFrame:
    """Hidden data no student has seen."""
    return pd.read_csv(HERE / "data" / "salaries_2025.csv")
