import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from submission import cleaned, mean_temp, readings, warmest


def test_readings_untouched():
    """readings still holds all five rows."""
    assert len(readings) == 5
    assert readings["temp"].sum() == 49.25


def test_cleaned():
    """cleaned: the rows with a city, numbered from 0."""
    assert_frame_equal(cleaned, pd.DataFrame({
        "city": ["Oslo", "Rome", "Lima", "Oslo"], "temp": [3.5, 18.25, 16.0, 4.5]}))


def test_mean_temp():
    """mean_temp: the mean temperature of the cleaned rows."""
    assert type(mean_temp) is float
    assert mean_temp == pytest.approx(10.5625)


def test_warmest():
    """warmest: the city of the warmest cleaned reading."""
    assert warmest == "Rome"
