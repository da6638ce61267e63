"""The strict value codec: exact round trips, refusals that run no student code, malformed input,
size and depth limits, and copying in-place changes back."""

from __future__ import annotations

import base64
import io
import json
import math
import pickle
import subprocess
import sys
import types
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from conftest import HARNESS, PYTHON

sys.path.insert(0, str(HARNESS))
import codec  # noqa: E402  (the harness module)
from codec import CodecError, copy_back, decode, dumps, encode, is_mutable, loads  # noqa: E402


def cross(value: Any, what: str = "f returned") -> Any:
    """Send `value` the way the harness does: dumps on one side, loads on the other."""
    return loads(dumps(value, what))


def plain_json(data: Any) -> bool:
    """Whether `data` is made only of the exact JSON types."""
    t = type(data)
    if data is None or t in (bool, int, float, str):
        return t is not float or math.isfinite(data)
    if t is list:
        return all(plain_json(x) for x in data)
    if t is dict:
        return all(type(k) is str and plain_json(v) for k, v in data.items())
    return False


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (and nan equal to nan)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return (list(map(type, a)) == list(map(type, b)) and list(a) == list(b)
                and all(same(a[k], b[k]) for k in a))
    if type(a) in (set, frozenset):
        return a == b and sorted(map(repr, a)) == sorted(map(repr, b))
    return bool(a == b)


# --- round trips -------------------------------------------------------------------------------

PLAIN_VALUES = {
    "None": None, "True": True, "False": False, "zero": 0, "negative int": -17,
    "int at the plain limit": 2 ** 63 - 1, "int past the plain limit": 2 ** 63,
    "huge int": 10 ** 100, "huge negative int": -(10 ** 100),
    "int of 6000 digits": 7 ** 7100, "float": 0.1, "tiny float": 5e-324, "big float": 1e308,
    "negative zero": -0.0, "nan": math.nan, "inf": math.inf, "-inf": -math.inf,
    "complex": complex(1.5, -math.inf), "str": "héllo wörld ∑ 😀", "empty str": "",
    "lone surrogate": "a\ud800b", "surrogate pair as two chars": "\ud83d\ude00",
    "nul char": "a\x00b", "bytes": bytes(range(256)), "empty bytes": b"",
    "bytearray": bytearray(b"\x00abc\xff"), "list": [1, "a", None, 2.5],
    "empty list": [], "tuple": (1, (2, 3), [4]), "empty tuple": (), "1-tuple": (True,),
    "set": {1, "a", (2, 3), None}, "empty set": set(), "frozenset": frozenset({1, 2.5}),
    "nested": [{"a": (1, {2: [3, {b"x"}]})}, [[[]]]], "range": range(10),
    "range with a step": range(10, -5, -3), "empty range": range(0), "huge range": range(10 ** 30),
}


@pytest.mark.parametrize("value", PLAIN_VALUES.values(), ids=PLAIN_VALUES.keys())
def test_plain_value_round_trips_with_its_exact_type(value: Any) -> None:
    data = encode(value, "f returned")
    assert plain_json(data)
    json.dumps(data, allow_nan=False)
    assert same(decode(data), value)
    assert same(cross(value), value)


def test_booleans_stay_the_singletons_and_never_become_ints() -> None:
    assert cross(True) is True
    assert cross(False) is False
    assert type(cross(1)) is int and type(cross(1.0)) is float
    assert [type(x) for x in cross([True, 1, 1.0])] == [bool, int, float]


def test_negative_zero_and_nan_keep_their_bits_that_matter() -> None:
    assert math.copysign(1, cross(-0.0)) == -1
    assert math.isnan(cross(math.nan))
    assert cross([math.inf, -math.inf]) == [math.inf, -math.inf]


def test_dict_keeps_key_types_and_insertion_order() -> None:
    value = {"b": 1, 2: "two", (1, "x"): [1], None: None, True: b"t", 2.5: 0.5,
             frozenset({1}): {}, -(10 ** 30): (), b"k": 1, "a": {"inner": 1}}
    result = cross(value)
    assert same(result, value)
    assert list(result) == list(value)


def test_a_dict_with_a_tag_key_is_not_mistaken_for_a_tag() -> None:
    for value in ({"$t": "tuple", "v": [1, 2]}, {"$t": "bytes", "v": "AA=="}, {"$t": 1},
                  [{"$t": "set", "v": []}]):
        assert same(cross(value), value)


def test_encoding_of_the_common_values_is_compact_plain_json() -> None:
    assert encode([None, True, 3, 2.5, "s"], "f returned") == [None, True, 3, 2.5, "s"]
    assert encode((1,), "f returned") == {"$t": "tuple", "v": [1]}
    assert encode({"a": 1}, "f returned") == {"$t": "dict", "v": [["a", 1]]}
    assert encode(math.nan, "f returned") == {"$t": "float", "v": "nan"}
    assert encode(-(2 ** 64), "f returned") == {"$t": "int", "v": "-10000000000000000"}
    assert dumps([1, "é"], "f returned") == '[1,"é"]'.encode()


NUMPY_ARRAYS = {
    "int64 2-d": np.arange(12).reshape(3, 4), "int8": np.array([-128, 0, 127], dtype=np.int8),
    "uint64 max": np.array([2 ** 64 - 1], dtype=np.uint64),
    "float32 with nan": np.array([1.5, np.nan, -np.inf], dtype=np.float32),
    "float16": np.array([0.5], dtype=np.float16),
    "complex128": np.array([1 + 2j, -0.0j]), "bool": np.array([True, False]),
    "datetime64[ns]": np.array(["2024-02-29T12:00", "NaT"], dtype="datetime64[ns]"),
    "datetime64[D]": np.array(["2024-01-01"], dtype="datetime64[D]"),
    "timedelta64[s]": np.array([5, -3], dtype="timedelta64[s]"),
    "unicode": np.array(["a", "ünïcode", ""]), "bytes": np.array([b"ab", b"\x00"]),
    "structured": np.array([(1, 2.5, b"x")], dtype=[("a", "<i4"), ("b", "<f8"), ("c", "S1")]),
    "big-endian": np.array([1, 2], dtype=">i4"),
    "fortran order": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "non-contiguous view": np.arange(20)[::3], "0-d": np.array(7.5), "empty": np.zeros((0, 3)),
    "3-d": np.arange(24, dtype=np.int16).reshape(2, 3, 4),
}


@pytest.mark.parametrize("arr", NUMPY_ARRAYS.values(), ids=NUMPY_ARRAYS.keys())
def test_numpy_array_round_trips_with_dtype_and_shape(arr: np.ndarray) -> None:
    result = cross(arr)
    assert type(result) is np.ndarray
    assert result.dtype == arr.dtype and result.shape == arr.shape
    assert result.tobytes(order="A") == arr.tobytes(order="A") or np.array_equal(result, arr)
    assert result.flags.writeable and result.flags.owndata


def test_numpy_object_array_crosses_element_by_element() -> None:
    arr = np.empty((2, 2), dtype=object)
    arr[:] = [[1, "x"], [None, (2, 3)]]
    arr[1, 0] = [4, 5]
    result = cross(arr)
    assert result.dtype == object and result.shape == (2, 2)
    assert [same(a, b) for a, b in zip(result.flat, arr.flat)] == [True] * 4
    assert encode(np.array(["a", 1], dtype=object), "f returned") == {
        "$t": "objarray", "shape": [2], "v": ["a", 1]}


NUMPY_SCALARS = {
    "int64": np.int64(-3), "int32": np.int32(7), "uint8": np.uint8(255),
    "float64": np.float64(0.1), "float32": np.float32(1.5), "float64 nan": np.float64("nan"),
    "bool_": np.bool_(True), "complex64": np.complex64(1j), "str_": np.str_("ünï"),
    "bytes_": np.bytes_(b"ab"), "datetime64": np.datetime64("2024-01-02T03:04"),
    "timedelta64": np.timedelta64(5, "ms"),
}


@pytest.mark.parametrize("scalar", NUMPY_SCALARS.values(), ids=NUMPY_SCALARS.keys())
def test_numpy_scalar_arrives_as_the_same_numpy_scalar(scalar: Any) -> None:
    result = cross(scalar)
    assert type(result) is type(scalar)
    assert np.asarray(result).dtype == np.asarray(scalar).dtype
    assert result == scalar or (np.isnan(result) and np.isnan(scalar))


PANDAS_SCALARS = {
    "Timestamp": pd.Timestamp("2024-02-29 12:34:56.789012345"), "Timedelta": pd.Timedelta(-1),
    "NA": pd.NA, "NaT": pd.NaT, "Timestamp before 1970": pd.Timestamp("1900-01-01"),
}


@pytest.mark.parametrize("scalar", PANDAS_SCALARS.values(), ids=PANDAS_SCALARS.keys())
def test_pandas_scalars_cross_as_themselves(scalar: Any) -> None:
    result = cross([scalar])[0]
    assert type(result) is type(scalar)
    assert result is scalar if scalar is pd.NA or scalar is pd.NaT else result == scalar
    assert cross(pd.Series([1, pd.NA, pd.NaT], dtype=object)).iloc[1] is pd.NA


def test_numpy_bool_result_is_not_a_python_bool() -> None:
    # Hidden tests asserting `is True` fail on a numpy bool, as they would in shared mode.
    assert cross(np.bool_(True)) is not True
    assert type(cross([np.int64(1)])[0]) is np.int64


def sample_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "int": np.array([3, -1, 2 ** 40]), "float": [1.5, np.nan, -0.0],
        "bool": [True, False, True], "text": ["a", None, "ç"],
        "mixed": [1, "two", 3.0], "when": pd.to_datetime(["2024-01-01", None, "1999-12-31"]),
        "span": pd.to_timedelta([1, 2, 3], unit="s"),
        "cat": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi", "unused"]),
        "ordered": pd.Categorical([1, 2, 1], ordered=True),
        "Int64": pd.array([1, None, 3], dtype="Int64"),
        "UInt8": pd.array([None, 2, 3], dtype="UInt8"),
        "Float64": pd.array([0.5, None, 1.0], dtype="Float64"),
        "boolean": pd.array([True, None, False], dtype="boolean"),
        "string": pd.array(["x", None, "z"], dtype="string"),
        "int32": np.array([1, 2, 3], dtype=np.int32),
    })


FRAMES: dict[str, Callable[[], pd.DataFrame]] = {
    "every column dtype": sample_frame,
    "string index with a name": lambda: sample_frame().set_index(
        pd.Index(["r1", "r2", "r3"], name="row")),
    "datetime index with a frequency": lambda: pd.DataFrame(
        {"v": range(4)}, index=pd.date_range("2024-01-01", periods=4, freq="D", name="day")),
    "datetime index without a frequency": lambda: pd.DataFrame(
        {"v": [1.0, 2.0]}, index=pd.DatetimeIndex(["2024-05-01", "2023-01-01"])),
    "multiindex rows and columns": lambda: pd.DataFrame(
        np.arange(8).reshape(2, 4),
        index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", None]),
        columns=pd.MultiIndex.from_product([["x", "y"], [1, 2]], names=["top", "sub"])),
    "int, float and odd column labels": lambda: pd.DataFrame(
        {0: [1], 2.5: ["a"], None: [None], ("t", 1): [b"x"], True: [[1, 2]]},
        index=pd.Index([10])),
    "duplicate column labels": lambda: pd.DataFrame([[1, 2.0]], columns=["a", "a"]),
    "range index with a step": lambda: pd.DataFrame(
        {"v": [1, 2]}, index=pd.RangeIndex(10, 0, -5, name="r")),
    "categorical index": lambda: pd.DataFrame(
        {"v": [1, 2]}, index=pd.CategoricalIndex(["p", "q"], categories=["q", "p"])),
    "columns with a name": lambda: pd.DataFrame(
        {"a": [1]}).rename_axis(columns="fields").rename_axis(index="rows"),
    "groupby result": lambda: pd.DataFrame({"g": ["a", "b", "a"], "v": [1, 2, 3]}).groupby(
        "g").agg(total=("v", "sum"), mean=("v", "mean")),
    "empty with columns": lambda: pd.DataFrame({"a": pd.Series([], dtype="int64"),
                                                "b": pd.Series([], dtype=object)}),
    "no columns": lambda: pd.DataFrame(index=pd.Index(["x", "y"])),
    "completely empty": pd.DataFrame,
}


@pytest.mark.parametrize("make", FRAMES.values(), ids=FRAMES.keys())
def test_dataframe_round_trips_exactly(make: Callable[[], pd.DataFrame]) -> None:
    df = make()
    result = cross(df)
    assert type(result) is pd.DataFrame
    assert_frame_equal(result, df, check_exact=True, check_index_type=True,
                       check_column_type=True, check_categorical=True, check_freq=True)
    assert list(result.dtypes) == list(df.dtypes)
    assert type(result.index) is type(df.index) and type(result.columns) is type(df.columns)


SERIES: dict[str, Callable[[], pd.Series]] = {
    "int with a name": lambda: pd.Series([1, 2, 3], name="count"),
    "object strings, string index": lambda: pd.Series(["a", "b"], index=["x", "y"]),
    "tuple name": lambda: pd.Series([1.5], name=("a", 1)),
    "datetime values": lambda: pd.Series(pd.date_range("2024", periods=3, freq="H")),
    "hourly index": lambda: pd.Series(
        [1.0, 2.0, 3.0], index=pd.date_range("2024", periods=3, freq="H"), name="h"),
    "timedelta index": lambda: pd.Series([1, 2], index=pd.to_timedelta([1, 2], unit="d")),
    "category": lambda: pd.Series(["a", "b", "a"], dtype="category", name="c"),
    "nullable Int64": lambda: pd.Series([1, None], dtype="Int64"),
    "value_counts": lambda: pd.Series(list("abcab")).value_counts(),
    "multiindex": lambda: pd.Series(
        [1, 2, 3, 4], index=pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"])),
    "empty": lambda: pd.Series([], dtype="float64", name=None),
    "bool": lambda: pd.Series([True, False], index=pd.Index([1.5, 2.5])),
}


@pytest.mark.parametrize("make", SERIES.values(), ids=SERIES.keys())
def test_series_round_trips_exactly(make: Callable[[], pd.Series]) -> None:
    s = make()
    result = cross(s)
    assert type(result) is pd.Series
    assert_series_equal(result, s, check_exact=True, check_index_type=True,
                        check_series_type=True, check_categorical=True, check_freq=True)
    assert result.name == s.name and result.dtype == s.dtype


def test_ten_thousand_row_frame_round_trips() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"id": np.arange(10_000), "x": rng.random(10_000),
                       "name": [f"student {i}" for i in range(10_000)],
                       "at": pd.date_range("2024", periods=10_000, freq="min"),
                       "grade": pd.Categorical(rng.choice(list("ABCDF"), 10_000))})
    assert_frame_equal(cross(df), df, check_exact=True)


def test_values_inside_frames_keep_their_python_types() -> None:
    df = pd.DataFrame({"o": [1, "1", (1,), None, True]})
    assert [type(x) for x in cross(df)["o"]] == [int, str, tuple, type(None), bool]


# --- refusals ----------------------------------------------------------------------------------

class Spy:
    """Every dunder that could run during encoding records its name in `Spy.calls`."""

    calls: list[str] = []

    def _record(name: str) -> Any:  # type: ignore[misc]
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            Spy.calls.append(name)
            return {"__bool__": True, "__len__": 1, "__iter__": iter([1]), "__eq__": True,
                    "__hash__": 987654321, "__index__": 1, "__int__": 1, "__float__": 1.0,
                    "__repr__": "spy", "__str__": "spy", "__reduce__": (int, ()),
                    "__reduce_ex__": (int, ()), "__array__": np.zeros(1),
                    "__getstate__": {}, "keys": [], "__format__": "spy",
                    "__getitem__": 1}.get(name)
        return method

    for _name in ("__bool__", "__len__", "__iter__", "__eq__", "__ne__", "__hash__",
                  "__index__", "__int__", "__float__", "__repr__", "__str__", "__reduce__",
                  "__reduce_ex__", "__array__", "__getstate__", "keys", "__getitem__",
                  "__format__", "__copy__", "__deepcopy__", "__fspath__", "__bytes__",
                  "__complex__", "__contains__"):
        locals()[_name] = _record(_name)
    del _name

    def __getattr__(self, name: str) -> Any:
        Spy.calls.append(f"__getattr__({name})")
        raise AttributeError(name)


class AlwaysEqual:
    __eq__ = lambda s, o: True  # noqa: E731
    __hash__ = object.__hash__


class Evil(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class Shout(str):
    pass


class Loud(dict):  # type: ignore[type-arg]
    pass


class ClassLiar:
    """Claims to be an int to isinstance()."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        Spy.calls.append("__class__")
        return int


class _Answer:
    pass


def gen() -> Any:
    yield 1


REFUSED = {
    "always-equal object": (AlwaysEqual(), "AlwaysEqual"),
    "int subclass with __eq__": (Evil(5), "Evil is a subclass of int"),
    "bool-like int subclass": (Evil(1), "Return a plain int"),
    "str subclass": (Shout("x"), "Shout is a subclass of str"),
    "dict subclass": (Loud(a=1), "Loud is a subclass of dict"),
    "Counter": (__import__("collections").Counter("ab"), "Counter is a subclass of dict"),
    "namedtuple": (__import__("collections").namedtuple("P", "x")(1), "P is a subclass of tuple"),
    "float subclass": (type("F", (float,), {})(1.0), "F is a subclass of float"),
    "function": (lambda: 1, "a function"),
    "builtin function": (len, "a builtin_function_or_method"),
    "generator": (gen(), "a generator"),
    "module": (types, "a module"),
    "class": (int, "a type"),
    "object lying about its __class__": (ClassLiar(), "ClassLiar"),
    "numpy matrix": (np.zeros((1, 1)).view(np.matrix), "a matrix"),
    "numpy masked array": (np.ma.array([1, 2], mask=[0, 1]), "a MaskedArray"),
    "numpy int subclass": (type("N", (np.int64,), {})(1), "a N"),
    "array with object fields": (np.zeros(2, dtype=[("a", "O")]), "of dtype"),
    "DataFrame subclass": (type("MyFrame", (pd.DataFrame,), {})({"a": [1]}), "a MyFrame"),
    "Index alone": (pd.Index([1, 2]), "Index"),
    "period column": (pd.DataFrame({"p": pd.period_range("2024", periods=2, freq="M")}),
                      "of dtype period[M]"),
    "interval series": (pd.Series(pd.interval_range(0, 2)), "of dtype interval"),
    "Period in an object column": (pd.Series([1, pd.Period("2024-01")], dtype=object),
                                   "a Period"),
    "Timestamp with a time zone": (pd.Timestamp("2024", tz="UTC"), "a Timestamp"),
}


@pytest.mark.parametrize("value,expected", REFUSED.values(), ids=REFUSED.keys())
def test_unsupported_value_is_refused_naming_its_type(value: Any, expected: str) -> None:
    Spy.calls.clear()
    with pytest.raises(CodecError) as e:
        encode(value, "is_prime returned")
    message = str(e.value)
    assert message.startswith("is_prime returned ")
    assert "cannot be sent between the sandboxes" in message and expected in message
    assert Spy.calls == []


def test_refusal_message_for_a_plain_object_reads_as_the_issue_says() -> None:
    with pytest.raises(CodecError) as e:
        encode(_Answer(), "is_prime returned")
    assert str(e.value) == (
        "is_prime returned a _Answer, which cannot be sent between the sandboxes. Return plain "
        "values: None, bool, int, float, str, bytes, list, tuple, dict, set, range, numpy "
        "arrays or pandas Series/DataFrames.")


@pytest.mark.parametrize("value,where", [
    ([1, 2, _Answer()], "a list containing a _Answer (at [2])"),
    ({"k": [0, _Answer()]}, "a dict containing a _Answer (at ['k'][1])"),
    ({_Answer(): 1}, "a dict containing a _Answer (at <key>)"),
    ((1, {_Answer()}), "a tuple containing a _Answer (at [1]{item})"),
    (np.array([[1, 2], [3, _Answer()]], dtype=object),
     "a numpy array containing a _Answer (at [1, 1])"),
    (pd.DataFrame({"a": [1], "b": [_Answer()]}), "a DataFrame containing a _Answer (at ['b'][0])"),
])
def test_refusal_message_says_where_inside_the_value(value: Any, where: str) -> None:
    with pytest.raises(CodecError) as e:
        encode(value, "argument 1 of f is")
    assert str(e.value).startswith(f"argument 1 of f is {where}, which cannot be sent")


def objects(*items: Any) -> np.ndarray:
    """An object array of `items`, built so numpy does not treat them as sequences."""
    arr = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        arr[i] = x
    return arr


@pytest.mark.parametrize("place", ["alone", "in a list", "as a dict key", "as a dict value",
                                   "in a set", "in a tuple", "in an object array",
                                   "in a DataFrame column", "as a column label",
                                   "as a Series name", "as an index label"])
def test_refusing_an_object_never_runs_its_methods(place: str) -> None:
    spy = Spy()
    value = {
        "alone": lambda: spy, "in a list": lambda: [1, spy], "as a dict key": lambda: {spy: 1},
        "as a dict value": lambda: {"a": spy}, "in a set": lambda: {"x", spy},
        "in a tuple": lambda: (spy,), "in an object array": lambda: objects(1, spy),
        "in a DataFrame column": lambda: pd.DataFrame({"a": [1, 2]}).assign(b=objects(spy, 1)),
        "as a column label": lambda: pd.DataFrame(np.zeros((1, 1)), columns=pd.Index(
            objects(spy), dtype=object)),
        "as a Series name": lambda: pd.Series([1], name=spy),
        "as an index label": lambda: pd.Series([1], index=pd.Index(objects(spy), dtype=object)),
    }[place]()
    Spy.calls.clear()
    with pytest.raises(CodecError) as e:
        encode(value, "f returned")
    assert "a Spy" in str(e.value)
    assert Spy.calls == []


def test_a_list_that_contains_itself_is_too_deeply_nested() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    cyclic_dict: dict[str, Any] = {}
    cyclic_dict["me"] = cyclic_dict
    for value in (loop, cyclic_dict):
        with pytest.raises(CodecError, match="nested too deeply .* or contains itself"):
            encode(value, "f returned")


def nest(depth: int) -> Any:
    value: Any = 0
    for i in range(depth):
        value = [value] if i % 3 == 0 else ((value,) if i % 3 == 1 else {"k": value})
    return value


def test_nesting_up_to_the_limit_crosses_and_beyond_it_is_refused() -> None:
    deep = nest(codec.DEPTH_MAX)
    assert same(cross(deep), deep)
    with pytest.raises(CodecError, match=r"nested too deeply \(more than 100 levels\)"):
        encode(nest(codec.DEPTH_MAX + 1), "f returned")
    with pytest.raises(CodecError, match="nested too deeply"):
        encode(nest(100_000), "f returned")


@pytest.mark.parametrize("make", [
    lambda: "x" * (17 * 1024 * 1024), lambda: b"x" * (13 * 1024 * 1024),
    lambda: ["é" * 1024] * (9 * 1024), lambda: np.zeros(3 * 1024 * 1024),
    lambda: [10 ** 1000] * 100_000, lambda: pd.DataFrame({"a": np.zeros(2 * 1024 * 1024)}),
])
def test_values_over_16_mib_are_refused(make: Callable[[], Any]) -> None:
    with pytest.raises(CodecError, match="of more than 16 MiB .encoded., which cannot be sent "
                                         "between the sandboxes"):
        dumps(make(), "f returned")


def test_a_value_just_under_the_limit_crosses() -> None:
    value = "x" * (codec.SIZE_MAX - 100)
    assert cross(value) == value


# --- the hooks of process isolation: handles and their references ------------------------------

class Handles:
    """A stand-in for either side's hook: every value that is not data gets a numbered tag,
    decoded back to the same object."""

    def __init__(self) -> None:
        self.objects: list[Any] = []

    def other(self, value: Any) -> dict[str, Any]:
        self.objects.append(value)
        return {"$t": "h", "i": len(self.objects) - 1}

    def tags(self) -> dict[str, Any]:
        return {"h": lambda d, value: self.objects[d["i"]]}


# The values refused as a whole (a Series of objects holding a Period crosses as a Series
# holding a tag instead: see test_a_tag_inside_data_crosses_where_it_was).
WHOLE = {k: v for k, v in REFUSED.items() if k != "Period in an object column"}


@pytest.mark.parametrize("value,expected", WHOLE.values(), ids=WHOLE.keys())
def test_with_a_hook_a_value_that_is_not_data_becomes_its_tag(value: Any, expected: str) -> None:
    hook = Handles()
    Spy.calls.clear()
    data = encode([1, value], "f returned", hook.other)
    assert data == [1, {"$t": "h", "i": 0}] and hook.objects[0] is value
    assert Spy.calls == []
    back = decode(json.loads(json.dumps(data)), hook.tags())
    assert back[0] == 1 and back[1] is value


@pytest.mark.parametrize("place", ["in a list", "as a dict value", "in an object array",
                                   "in a DataFrame column"])
def test_a_tag_inside_data_crosses_where_it_was(place: str) -> None:
    spy = Spy()
    value = {
        "in a list": lambda: [1, spy], "as a dict value": lambda: {"a": spy},
        "in an object array": lambda: objects(1, spy),
        "in a DataFrame column": lambda: pd.DataFrame({"a": [1, 2]}).assign(b=objects(spy, 1)),
    }[place]()
    hook = Handles()
    Spy.calls.clear()
    data = encode(value, "f returned", hook.other)
    assert hook.objects == [spy] and Spy.calls == []
    back = decode(data, hook.tags())  # pandas' own inference may look at the object here
    if place == "in a DataFrame column":
        assert back["b"][0] is spy and list(back["a"]) == [1, 2]
    elif place == "in an object array":
        assert back[1] is spy and back[0] == 1
    else:
        assert (back[1] if place == "in a list" else back["a"]) is spy


def test_a_frame_of_a_dtype_the_codec_does_not_carry_becomes_one_tag() -> None:
    frame = pd.DataFrame({"p": pd.period_range("2024", periods=2, freq="M"), "n": [1, 2]})
    hook = Handles()
    data = encode({"frame": frame, "n": 3}, "f returned", hook.other)
    assert hook.objects == [frame]
    assert data == {"$t": "dict", "v": [["frame", {"$t": "h", "i": 0}], ["n", 3]]}


def test_a_hook_that_refuses_leaves_the_refusal_as_it_was() -> None:
    with pytest.raises(CodecError, match="argument 1 of f is a list containing a function "
                                         r"\(at \[1\]\), which cannot be sent between the "
                                         "sandboxes"):
        encode([1, lambda: 0], "argument 1 of f is", lambda v: None)
    with pytest.raises(CodecError, match="of dtype period"):
        encode(pd.Series(pd.period_range("2024", periods=2, freq="M")), "f returned",
               lambda v: None)


def test_limits_hold_with_a_hook() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(CodecError, match="nested too deeply .* cannot be sent between the "
                                         "sandboxes"):
        encode(loop, "f returned", Handles().other)
    with pytest.raises(CodecError, match="more than 16 MiB"):
        encode(["x" * (17 * 1024 * 1024)], "f returned", Handles().other)


def test_tags_of_a_hook_are_refused_without_it() -> None:
    for data in ({"$t": "h", "i": 0}, [{"$t": "r", "i": 3}], {"$t": "fn", "i": 1}):
        with pytest.raises(CodecError, match="unknown tag"):
            decode(data)
    with pytest.raises(CodecError, match="unknown tag 'x'"):
        decode({"$t": "x"}, Handles().tags())


def test_a_tag_handler_decodes_nested_values_strictly() -> None:
    seen = []

    def handler(d: dict[str, Any], value: Callable[[Any], Any]) -> Any:
        seen.append(value(d["v"]))
        return "handled"

    assert decode([{"$t": "p", "v": {"$t": "tuple", "v": [1]}}], {"p": handler}) == ["handled"]
    assert seen == [(1,)]
    with pytest.raises(CodecError, match="malformed"):
        decode({"$t": "p", "v": {"$t": "float", "v": "1"}}, {"p": handler})


def test_plain_values_are_their_own_encoding() -> None:
    for value in (None, True, 0, -(2 ** 63) + 1, 1.5, "abc"):
        assert codec.is_plain(value) and encode(value, "f returned") is value
        assert decode(value) is value
    for value in (2 ** 63, math.nan, math.inf, "x" * 5000, [1], Evil(1), Shout("a")):
        assert not codec.is_plain(value)


# --- malformed input ---------------------------------------------------------------------------

def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def npy_with_header(header: dict[str, Any], body: bytes = b"") -> str:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return b64(buf.getvalue() + body)


GOOD_NPY = npy_bytes(np.arange(4))
OBJECT_NPY = npy_with_header({"descr": "|O", "fortran_order": False, "shape": (1,)}, b"\x00" * 8)
MALFORMED = {
    "unknown tag": {"$t": "nope", "v": 1},
    "missing tag": {"v": [1]},
    "a plain JSON object": {"a": 1},
    "tag that is not a string": {"$t": ["tuple"], "v": []},
    "missing field": {"$t": "tuple"},
    "extra field": {"$t": "tuple", "v": [], "x": 1},
    "tuple of a non-list": {"$t": "tuple", "v": "abc"},
    "big int not hex": {"$t": "int", "v": "12g"},
    "big int as a number": {"$t": "int", "v": 5},
    "empty big int": {"$t": "int", "v": "-"},
    "special float that is a number": {"$t": "float", "v": "1.5"},
    "untagged nan": math.nan,
    "untagged inf": [math.inf],
    "untagged big int": 2 ** 64,
    "complex of one part": {"$t": "complex", "v": [1.0]},
    "complex of strings": {"$t": "complex", "v": ["1", "2"]},
    "set of a list": {"$t": "set", "v": [[1]]},
    "set with a duplicate": {"$t": "frozenset", "v": [1, 1]},
    "dict pair of one": {"$t": "dict", "v": [[1]]},
    "dict pair that is a tuple tag": {"$t": "dict", "v": [{"$t": "tuple", "v": [1, 2]}]},
    "dict with an unhashable key": {"$t": "dict", "v": [[[1], 2]]},
    "dict with a duplicate key": {"$t": "dict", "v": [["a", 1], ["a", 2]]},
    "bytes not base64": {"$t": "bytes", "v": "!!!"},
    "bytes not a string": {"$t": "bytes", "v": [1, 2]},
    "non-ascii base64": {"$t": "bytes", "v": "AAé="},
    "truncated npy": {"$t": "ndarray", "v": b64(GOOD_NPY[:-3])},
    "npy with trailing bytes": {"$t": "ndarray", "v": b64(GOOD_NPY + b"\x00")},
    "npy header only": {"$t": "ndarray", "v": b64(GOOD_NPY[:20])},
    "not npy at all": {"$t": "ndarray", "v": b64(b"hello world")},
    "npy claiming a huge shape": {"$t": "ndarray", "v": npy_with_header(
        {"descr": "<f8", "fortran_order": False, "shape": (10 ** 12,)}, b"\x00" * 8)},
    "npy of zero-size items with a huge shape": {"$t": "ndarray", "v": npy_with_header(
        {"descr": "|V0", "fortran_order": False, "shape": (10 ** 15,)})},
    "npy that needs pickle": {"$t": "ndarray", "v": OBJECT_NPY},
    "npy with code in the header": {"$t": "ndarray", "v": b64(
        GOOD_NPY[:10] + b"{'descr': __import__('os').system('true'), 'shape': ()}".ljust(
            int.from_bytes(GOOD_NPY[8:10], "little")))},
    "npy version 3": {"$t": "ndarray", "v": b64(GOOD_NPY[:6] + b"\x03\x00" + GOOD_NPY[8:])},
    "object array with the wrong count": {"$t": "objarray", "shape": [2], "v": [1]},
    "object array with a negative shape": {"$t": "objarray", "shape": [-1], "v": []},
    "npscalar of a 1-d array": {"$t": "npscalar", "v": b64(GOOD_NPY)},
    "column tag at the top": {"$t": "categorical", "categories": None, "ordered": False,
                              "codes": b64(GOOD_NPY)},
    "index tag at the top": {"$t": "range", "v": [0, 1, 1], "name": None},
    "range with a step of 0": {"$t": "pyrange", "v": [1, 2, 0]},
    "range of two numbers": {"$t": "pyrange", "v": [1, 2]},
    "range of floats": {"$t": "pyrange", "v": [1.0, 2, 1]},
    "handle without its hook": {"$t": "h", "i": 1, "c": "submission:Robot"},
    "range index with step 0": {"$t": "series", "name": None, "v": {"$t": "objarray",
                                "shape": [0], "v": []},
                                "index": {"$t": "range", "v": [0, 0, 0], "name": None}},
    "series longer than its index": {"$t": "series", "name": None,
                                     "v": {"$t": "ndarray", "v": b64(GOOD_NPY)},
                                     "index": {"$t": "range", "v": [0, 2, 1], "name": None}},
    "series of a 2-d array": {"$t": "series", "name": None, "index": {"$t": "range",
                              "v": [0, 1, 1], "name": None},
                              "v": {"$t": "ndarray", "v": b64(npy_bytes(np.zeros((1, 1))))}},
    "series with a plain list": {"$t": "series", "name": None, "v": [1],
                                 "index": {"$t": "range", "v": [0, 1, 1], "name": None}},
    "frame with more columns than labels": {
        "$t": "dataframe", "index": {"$t": "range", "v": [0, 4, 1], "name": None},
        "columns": {"$t": "range", "v": [0, 0, 1], "name": None},
        "v": [{"$t": "ndarray", "v": b64(GOOD_NPY)}]},
    "categorical codes out of range": {
        "$t": "series", "name": None, "index": {"$t": "range", "v": [0, 4, 1], "name": None},
        "v": {"$t": "categorical", "ordered": False, "codes": b64(GOOD_NPY),
              "categories": {"$t": "index", "name": None, "freq": None,
                             "v": {"$t": "objarray", "shape": [1], "v": ["a"]}}}},
    "masked of an unknown dtype": {
        "$t": "series", "name": None, "index": {"$t": "range", "v": [0, 4, 1], "name": None},
        "v": {"$t": "masked", "dtype": "object", "v": b64(GOOD_NPY), "mask": b64(GOOD_NPY)}},
    "masked with a non-bool mask": {
        "$t": "series", "name": None, "index": {"$t": "range", "v": [0, 4, 1], "name": None},
        "v": {"$t": "masked", "dtype": "Int64", "v": b64(GOOD_NPY), "mask": b64(GOOD_NPY)}},
    "strings holding an int": {
        "$t": "series", "name": None, "index": {"$t": "range", "v": [0, 1, 1], "name": None},
        "v": {"$t": "strings", "v": [1]}},
    "frequency on an int index": {
        "$t": "series", "name": None, "v": {"$t": "ndarray", "v": b64(GOOD_NPY)},
        "index": {"$t": "index", "name": None, "freq": "D",
                  "v": {"$t": "ndarray", "v": b64(GOOD_NPY)}}},
    "frequency that does not fit the dates": {
        "$t": "series", "name": None, "v": {"$t": "ndarray", "v": b64(npy_bytes(np.arange(2)))},
        "index": {"$t": "index", "name": None, "freq": "D", "v": {"$t": "ndarray", "v": b64(
            npy_bytes(np.array(["2024-01-01", "2024-03-01"], dtype="M8[ns]")))}}},
    "multiindex codes out of range": {
        "$t": "series", "name": None, "v": {"$t": "ndarray", "v": b64(npy_bytes(np.arange(1)))},
        "index": {"$t": "multiindex", "names": [None], "codes": [b64(npy_bytes(np.array([5])))],
                  "levels": [{"$t": "range", "v": [0, 1, 1], "name": None}]}},
    "nesting past the limit": json.loads("[" * 105 + "]" * 105),
    "nesting past the limit in tags": json.loads('{"$t":"tuple","v":[' * 105 + "]}" * 105),
    "a Python object": object(),
    "a tuple (not JSON)": (1, 2),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_data_is_refused_with_a_codec_error(data: Any) -> None:
    with pytest.raises(CodecError, match="The value from the other sandbox is malformed: "):
        decode(data)


@pytest.mark.parametrize("raw", [
    b"", b"[1,", b"{\"$t\": \"tuple\", \"v\": []", b"NaN", b"[Infinity]", b"-Infinity",
    b"\xff\xfe", b"[" * 200_000 + b"]" * 200_000, b"1" * 5000,
    b'{"$t":"tuple","$t":"set","v":[]}', b" " * (codec.SIZE_MAX + 1), b'"\\ud800',
])
def test_malformed_bytes_are_refused_by_loads(raw: bytes) -> None:
    with pytest.raises(CodecError, match="malformed"):
        loads(raw)


def test_loads_takes_only_bytes() -> None:
    with pytest.raises(CodecError):
        loads("[1]")  # type: ignore[arg-type]


def test_decoding_never_unpickles(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pickle(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle was used")

    for name in ("loads", "load", "Unpickler", "_loads", "_load", "_Unpickler"):
        monkeypatch.setattr(pickle, name, no_pickle, raising=False)
    values = [np.arange(3), np.array([1, "a"], dtype=object), np.float64(2.5),
              sample_frame(), pd.Series(["a"], dtype="category"), {(1,): {2}}]
    for value in values:
        data = dumps(value, "f returned")
        assert b"\\u0080" not in data and not data.startswith(b"\x80")  # no pickle protocol
        loads(data)
    with pytest.raises(CodecError, match="needs pickle"):
        decode({"$t": "ndarray", "v": OBJECT_NPY})
    pickled = b64(pickle.dumps(np.array([1, None], dtype=object)))
    with pytest.raises(CodecError):
        decode({"$t": "ndarray", "v": pickled})


# --- copying in-place changes back -------------------------------------------------------------

def round_trip_call(arg: Any, mutate: Callable[[Any], None]) -> Any:
    """What the two sandboxes do: the argument crosses, the student's function changes it,
    its new state crosses back and is copied into the caller's object."""
    theirs = cross(arg, "argument 1 of f is")
    mutate(theirs)
    updated = cross(theirs, "argument 1 of f is")
    copy_back(arg, updated)
    return arg


def test_copy_back_list_dict_set_and_bytearray_in_place() -> None:
    items = [3, 1, [2]]
    same_list = items
    round_trip_call(items, lambda x: (x.sort(key=str), x.append((9,))))
    assert items is same_list and items == [1, 3, [2], (9,)]
    table = {"a": 1, "b": 2}
    round_trip_call(table, lambda d: (d.pop("a"), d.update(c=[3])))
    assert table == {"b": 2, "c": [3]} and list(table) == ["b", "c"]
    seen = {1, 2}
    round_trip_call(seen, lambda s: (s.discard(1), s.add("x")))
    assert seen == {2, "x"}
    buf = bytearray(b"abc")
    round_trip_call(buf, lambda b: b.extend(b"de"))
    assert buf == bytearray(b"abcde")


def test_copy_back_ndarray_in_place_keeps_views() -> None:
    arr = np.arange(6.0).reshape(2, 3)
    view = arr[0]
    round_trip_call(arr, lambda a: a.__setitem__((0, 0), 99.0))
    assert arr[0, 0] == 99.0 and view[0] == 99.0


def test_copy_back_ndarray_refuses_a_change_of_shape_or_dtype() -> None:
    arr = np.arange(3)
    with pytest.raises(CodecError, match="in-place changes of shape or dtype are not supported"):
        copy_back(arr, np.arange(4))
    with pytest.raises(CodecError, match="not supported"):
        copy_back(arr, np.arange(3.0))
    assert arr.tolist() == [0, 1, 2]


def test_copy_back_dataframe_in_place_with_new_columns_rows_and_dtypes() -> None:
    df = sample_frame().set_index(pd.Index(["r1", "r2", "r3"], name="row"))
    original = df

    def student(d: pd.DataFrame) -> None:
        d["new"] = d["int"] * 2
        d.drop(columns=["mixed"], inplace=True)
        d.loc["r4"] = d.loc["r1"]
        d["float"] = d["float"].fillna(0).astype("float32")
        d.sort_index(ascending=False, inplace=True)
        d.columns.name = "fields"

    expected = df.copy()
    student(expected)
    round_trip_call(df, student)
    assert df is original
    assert_frame_equal(df, expected, check_exact=True)
    assert df.columns.name == "fields"


def test_copy_back_series_in_place_including_its_name() -> None:
    s = pd.Series([3, 1, 2], index=["a", "b", "c"], name="v")
    original = s

    def student(x: pd.Series) -> None:
        x.sort_values(inplace=True)
        x["d"] = 7
        x.name = "renamed"

    expected = s.copy()
    student(expected)
    round_trip_call(s, student)
    assert s is original
    assert_series_equal(s, expected, check_exact=True)


def test_copy_back_ignores_immutable_values_and_refuses_a_type_change() -> None:
    for value in (1, "s", (1, [2]), frozenset(), None, np.int64(1)):
        copy_back(value, value)
    with pytest.raises(CodecError, match="cannot be copied back"):
        copy_back([1], (1,))
    with pytest.raises(CodecError, match="cannot be copied back"):
        copy_back(pd.DataFrame({"a": [1]}), pd.Series([1]))


def test_is_mutable_only_for_exact_mutable_types() -> None:
    for value in ([], {}, set(), bytearray(), np.zeros(1), pd.Series([], dtype=float),
                  pd.DataFrame()):
        assert is_mutable(value), value
    for value in ((), frozenset(), "s", b"b", 1, None, np.int64(1), Loud(),
                  np.zeros((1, 1)).view(np.matrix)):
        assert not is_mutable(value), value


# --- standalone and lazy -----------------------------------------------------------------------

def test_plain_values_cross_without_loading_numpy_or_pandas() -> None:
    code = ("import sys, codec; data = codec.dumps([1, (2.5, None), {'a': b'x'}, {3}], 'f'); "
            "value = codec.loads(data); codec.is_mutable(value); codec.copy_back(value, value); "
            "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))")
    proc = subprocess.run([PYTHON, "-I", "-c", f"import sys; sys.path.insert(0, "
                                               f"{str(HARNESS)!r}); {code}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
