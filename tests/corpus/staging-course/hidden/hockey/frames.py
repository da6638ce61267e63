"""A helper module of the hockey tests: comparisons with a message a student can act on."""

import pandas as pd


def same_frame(got: object, expected: pd.DataFrame) -> None:
    """Fail unless `got` is a DataFrame equal to `expected`, dtypes and order included."""
    assert type(got) is pd.DataFrame, f"expected a DataFrame, got {type(got).__name__}"
    assert list(got.columns) == list(expected.columns), "the columns differ from the file's"
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def same_series(got: object, expected: pd.Series) -> None:
    """Fail unless `got` is a Series equal to `expected`, index and name included."""
    assert type(got) is pd.Series, f"expected a Series, got {type(got).__name__}"
    pd.testing.assert_series_equal(got, expected)
