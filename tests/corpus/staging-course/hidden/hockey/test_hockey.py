"""Hidden tests of hockey: five tests, 2 points each.

The fixtures come from conftest.py and the comparisons from frames.py, a helper module
beside the tests; expected values were computed by hand from the CSV files.
"""

import pandas as pd

from frames import same_frame, same_series
from submission import load_players, mean_age_by_position, top_earners


def test_load_players_shape(canucks):
    """load_players reads data/canucks.csv: 14 players, 9 columns."""
    df = load_players()
    assert df.shape == (14, 9)
    assert df.shape == canucks.shape


def test_load_players_values(canucks):
    """load_players keeps every value and column type of the file."""
    same_frame(load_players(), canucks)


def test_top_earners(canucks):
    """top_earners ranks by salary, best paid first."""
    assert top_earners(canucks, 3) == ["Finn Kovacs", "Dan Okafor", "Gus Halvorsen"]


def test_top_earners_ties(salaries):
    """top_earners breaks ties in salary alphabetically (hidden data)."""
    assert top_earners(salaries, 2) == ["Pim de Vries", "Ray Mbeki"]
    assert top_earners(salaries, 6)[-2:] == ["Quin Laurent", "Tom Novak"]


def test_mean_age_by_position(salaries):
    """mean_age_by_position on the hidden data, sorted by position."""
    expected = pd.Series([29.0, 28.5, 29.0, 25.0], name="Age",
                         index=pd.Index(["Center", "Defenseman", "Goalie", "Left Wing"],
                                        name="Position"))
    same_series(mean_age_by_position(salaries), expected)
