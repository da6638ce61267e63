"""The strict value codec: how values cross between the student sandbox and the test sandbox.

Values cross as data, never as objects. `encode` accepts only values whose type is exactly one
of the supported types (a subclass of int, str, dict... is refused, so no method the student
wrote can run on the test side or decide how a value compares), and `decode` rebuilds them from
JSON without pickle or any other code execution, refusing every malformed structure.

Process isolation adds one hook each way (proxy.py, student.py): `encode(..., other=f)` hands
every value that is not data to `f`, which returns a tag of its own (the student's side: a
handle to an object that stays in its sandbox; the tests' side: a reference to such a handle),
and `decode(..., tags={...})` accepts those tags and no others. Without the hooks both refuse
them, as before.

Format (UTF-8 JSON; every JSON object is a tag, so a student's dict key "$t" is never confused
with one; "npy" means the base64 of a numpy `.npy` file written with pickle disabled):

| value                 | JSON                                                         |
|-----------------------|--------------------------------------------------------------|
| None, bool, str       | null, true/false, "..." (lone surrogates too)                |
| int, abs(n) < 2**63   | 123                                                          |
| other int             | {"$t": "int", "v": "-1f..."} (hexadecimal)                   |
| finite float          | 1.5, -0.0, 1e+300                                            |
| nan, inf, -inf        | {"$t": "float", "v": "nan" / "inf" / "-inf"}                 |
| complex               | {"$t": "complex", "v": [real, imag]}                         |
| list                  | [...]                                                        |
| tuple, set, frozenset | {"$t": "tuple" / "set" / "frozenset", "v": [...]}            |
| dict                  | {"$t": "dict", "v": [[key, value], ...]} (insertion order)   |
| bytes, bytearray      | {"$t": "bytes" / "bytearray", "v": "base64"}                 |
| range                 | {"$t": "pyrange", "v": [start, stop, step]}                  |
| ndarray, no objects   | {"$t": "ndarray", "v": npy}                                  |
| ndarray of objects    | {"$t": "objarray", "shape": [...], "v": [...]} (C order)     |
| numpy scalar          | {"$t": "npscalar", "v": npy of a 0-d array}                  |
| pandas Series         | {"$t": "series", "name": N, "index": I, "v": C}              |
| pandas DataFrame      | {"$t": "dataframe", "index": I, "columns": I, "v": [C, ...]} |
| Timestamp (no tz)     | {"$t": "timestamp", "v": nanoseconds since 1970}             |
| Timedelta             | {"$t": "timedelta", "v": nanoseconds}                        |
| pd.NA, pd.NaT         | {"$t": "NA"}, {"$t": "NaT"}                                  |

Inside Series and DataFrames only:

| part                 | JSON                                                       |
|----------------------|------------------------------------------------------------|
| N: a name            | any encoded value (usually null or a str)                  |
| I: RangeIndex        | {"$t": "range", "v": [start, stop, step], "name": N}       |
| I: MultiIndex        | {"$t": "multiindex", "levels": [I...], "codes": [npy...],  |
|                      | "names": [N...]}                                           |
| I: other Index       | {"$t": "index", "v": C, "name": N, "freq": null or "D"...} |
| C: numpy dtype       | an "ndarray" or "objarray" tag                             |
| C: category          | {"$t": "categorical", "categories": I, "ordered": bool,    |
|                      | "codes": npy}                                              |
| C: Int64, boolean... | {"$t": "masked", "dtype": "Int64", "v": npy, "mask": npy}  |
| C: string            | {"$t": "strings", "v": [str or null, ...]}                 |

Limits: DEPTH_MAX levels of nesting (a value that contains itself counts as too deep) and
SIZE_MAX bytes of JSON. numpy and pandas are imported only when a value needs them. Every
refusal says "cannot be sent between the sandboxes": the publish gate looks for that phrase.
"""

from __future__ import annotations

import base64
import io
import json
import math
import sys
from typing import Any, Callable, Optional

SIZE_MAX = 16 * 1024 * 1024  # bytes of encoded JSON, either way
DEPTH_MAX = 100  # levels of containers
INT_PLAIN_MAX = 2 ** 63  # ints below this (in absolute value) are plain JSON numbers
NPY_HEADER_MAX = 10000  # bytes of a .npy header, numpy's own default
TAG = "$t"
PLAIN_TYPES = ("None, bool, int, float, str, bytes, list, tuple, dict, set, range, numpy "
               "arrays or pandas Series/DataFrames")
CANNOT = "cannot be sent between the sandboxes"  # in every refusal; the publish gate looks for it
# Extension dtypes that are a numpy array plus a mask of missing values.
MASKED_DTYPES = frozenset({"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32",
                           "UInt64", "Float32", "Float64", "boolean"})
# Builtin types whose subclasses get a "convert it" hint instead of the generic message.
_BUILTINS = (bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset)
# Read a class's own name and MRO, never through a metaclass the student wrote.
_type_name: Callable[[type], str] = type.__dict__["__name__"].__get__
_type_mro: Callable[[type], tuple[type, ...]] = type.__dict__["__mro__"].__get__


class CodecError(Exception):
    """A value cannot cross, or the data that crossed is malformed; the message says which."""


class _Unsupported(CodecError):
    """A numpy or pandas value of a kind the codec does not carry (a dtype, an Index type):
    with a hook for other values, the whole value goes to the hook instead."""


# What encode() hands values that are not data to: it returns their JSON tag, None to refuse.
Other = Callable[[Any], Any]
# Extra tags decode() accepts: the tag's dict and a function decoding a nested value.
Tags = dict[str, Callable[[dict[str, Any], Callable[[Any], Any]], Any]]


def _a(name: str) -> str:
    if name == "ndarray":
        name = "numpy array"
    return ("an " if name[:1] and name[:1].lower() in "aeiou" else "a ") + name


def _malformed(why: str) -> CodecError:
    return CodecError(f"The value from the other sandbox is malformed: {why}.")


def _render_path(path: list[tuple[Any, ...]]) -> str:
    """Python-like text for where inside the value the bad part is: [2]['a']<key>."""
    parts = []
    for step in path:
        if step[0] == "item":
            parts.append(f"[{step[1]}]")
        elif step[0] == "flat":
            import numpy as np
            at = np.unravel_index(step[1], step[2]) if len(step[2]) > 1 else (step[1],)
            parts.append("[" + ", ".join(str(int(i)) for i in at) + "]")
        elif step[0] == "key":
            text = repr(step[1])  # keys on the path are already-checked plain values
            parts.append(f"[{text if len(text) <= 40 else text[:37] + '...'}]")
        else:
            parts.append(step[1])
    return "".join(parts)


class _Encoder:
    """One encoding: `what` for messages, the size so far and the path to the current part."""

    def __init__(self, what: str, other: Optional[Other] = None) -> None:
        self.what = what
        self.other = other
        self.size = 0
        self.top: Optional[str] = None
        self.path: list[tuple[Any, ...]] = []

    def _where(self) -> str:
        if not self.path:
            return ""
        return f" (at {_render_path(self.path)})"

    def _prefix(self, name: str, detail: str = "") -> str:
        """"is_prime returned a list containing a _Answer (at [2])" or "... returned a _Answer"."""
        if self.top is None or not self.path:
            return f"{self.what} {_a(name)}{detail}"
        return f"{self.what} {_a(self.top)} containing {_a(name)}{detail}{self._where()}"

    def refuse(self, value: Any) -> CodecError:
        cls = type(value)
        name = _type_name(cls)
        base = next((b for b in _type_mro(cls)[1:] if b in _BUILTINS), None)
        if base is not None:
            return CodecError(
                f"{self._prefix(name)}, which {CANNOT}: {name} is a subclass of "
                f"{base.__name__}, and only the exact built-in types can be sent. Return a "
                f"plain {base.__name__} instead.")
        return CodecError(f"{self._prefix(name)}, which {CANNOT}. Return plain values: "
                          f"{PLAIN_TYPES}.")

    def refuse_dtype(self, kind: str, dtype: Any) -> CodecError:
        return _Unsupported(f"{self._prefix(kind, f' of dtype {dtype}')}, which {CANNOT}. Use "
                            f"numeric, bool, datetime64, str (object) or category data.")

    def grow(self, n: int) -> None:
        self.size += n
        if self.size > SIZE_MAX:
            raise CodecError(f"{self.what} {_a(self.top or 'value')} of more than "
                             f"{SIZE_MAX // (1024 * 1024)} MiB (encoded), which {CANNOT}. "
                             f"Return a smaller value.")

    def value(self, v: Any, depth: int) -> Any:
        """Encode `v`, the part at self.path, `depth` containers deep."""
        if depth > DEPTH_MAX:
            raise CodecError(f"{self.what} {_a(self.top or 'value')} that is nested too deeply "
                             f"(more than {DEPTH_MAX} levels) or contains itself, which "
                             f"{CANNOT}.")
        t = type(v)
        if self.top is None:
            self.top = _type_name(t)
        if v is None or t is bool:
            self.grow(5)
            return v
        if t is str:
            self.grow(len(v) + 2)
            return v
        if t is int:
            if -INT_PLAIN_MAX < v < INT_PLAIN_MAX:
                self.grow(20)
                return v
            self.grow(v.bit_length() // 4 + 20)
            return {TAG: "int", "v": format(v, "x")}
        if t is float:
            self.grow(25)
            if math.isfinite(v):
                return v
            return {TAG: "float", "v": "nan" if v != v else ("inf" if v > 0 else "-inf")}
        if t is complex:
            return {TAG: "complex", "v": [self.value(v.real, depth + 1),
                                          self.value(v.imag, depth + 1)]}
        if t is list:
            return self.items(v, depth)
        if t is tuple or t is set or t is frozenset:
            return {TAG: _type_name(t), "v": self.items(v, depth)}
        if t is dict:
            return {TAG: "dict", "v": self.pairs(v, depth)}
        if t is bytes or t is bytearray:
            self.grow(len(v) * 4 // 3 + 20)
            return {TAG: _type_name(t), "v": base64.b64encode(v).decode("ascii")}
        if t is range:
            return {TAG: "pyrange", "v": [self.value(v.start, depth + 1),
                                         self.value(v.stop, depth + 1),
                                         self.value(v.step, depth + 1)]}
        # A value can only be a numpy or pandas object if that library is already loaded.
        np = sys.modules.get("numpy")
        if np is not None:
            if t is np.ndarray:
                return self.whole(self.ndarray, v, depth)
            if t in _numpy_scalar_types(np):
                return self.whole(self.npscalar, v, depth)
        pd = sys.modules.get("pandas")
        if pd is not None:
            if t is pd.Series:
                return self.whole(self.series, v, depth)
            if t is pd.DataFrame:
                return self.whole(self.dataframe, v, depth)
            # The scalars pandas itself hands out: df["when"].max(), a missing value.
            if v is pd.NA or v is pd.NaT:
                return {TAG: "NA" if v is pd.NA else "NaT"}
            if (t is pd.Timestamp and v.tz is None) or t is pd.Timedelta:
                return {TAG: _type_name(t).lower(), "v": v.value}
        tag = self.other(v) if self.other is not None else None
        if tag is not None:
            return tag
        raise self.refuse(v)

    def whole(self, encode: Callable[[Any, int], Any], v: Any, depth: int) -> Any:
        """encode(v, depth) for a numpy or pandas value; with a hook, a value of a kind the
        codec does not carry goes to the hook as a whole."""
        if self.other is None:
            return encode(v, depth)
        size, path = self.size, len(self.path)
        try:
            return encode(v, depth)
        except _Unsupported:
            tag = self.other(v)
            if tag is None:
                raise
            self.size = size
            del self.path[path:]
            return tag

    def npscalar(self, v: Any, depth: int) -> Any:
        import numpy as np
        return {TAG: "npscalar", "v": self.npy(np.asarray(v), "numpy scalar")}

    def series(self, v: Any, depth: int) -> Any:
        return {TAG: "series", "name": self.part(("", ".name"), v.name, depth),
                "index": self.index(v.index, depth + 1, ".index"),
                "v": self.column(v, depth + 1, "Series")}

    def part(self, step: tuple[Any, ...], v: Any, depth: int) -> Any:
        self.path.append(step)
        out = self.value(v, depth + 1)
        self.path.pop()
        return out

    def items(self, v: Any, depth: int) -> list[Any]:
        self.grow(2)
        out = []
        step: tuple[Any, ...] = ("item", 0) if type(v) in (list, tuple) else ("", "{item}")
        for i, x in enumerate(v):
            if step[0] == "item":
                step = ("item", i)
            out.append(self.part(step, x, depth))
        return out

    def pairs(self, v: dict[Any, Any], depth: int) -> list[Any]:
        self.grow(2)
        out = []
        for k, x in v.items():
            key = self.part(("", "<key>"), k, depth)
            out.append([key, self.part(("key", k), x, depth)])
        return out

    def npy(self, arr: Any, kind: str) -> str:
        """The base64 of `arr` as a .npy file, pickle disabled."""
        import numpy as np
        self.grow(arr.nbytes * 4 // 3 + 200)
        buf = io.BytesIO()
        try:
            np.lib.format.write_array(buf, arr, allow_pickle=False)
        except ValueError:
            raise self.refuse_dtype(kind, arr.dtype) from None
        data = buf.getvalue()
        if data[6:7] not in (b"\x01", b"\x02"):
            raise _Unsupported(f"{self._prefix(kind, f' of dtype {arr.dtype}')}, which "
                               f"{CANNOT}: its field names are not latin-1.")
        return base64.b64encode(data).decode("ascii")

    def ndarray(self, arr: Any, depth: int) -> Any:
        if not arr.dtype.hasobject:
            return {TAG: "ndarray", "v": self.npy(arr, "numpy array")}
        if arr.dtype.kind != "O":
            raise self.refuse_dtype("numpy array", arr.dtype)
        out = []
        self.grow(2 + 20 * arr.ndim)
        for i, x in enumerate(arr.reshape(-1)):
            out.append(self.part(("flat", i, arr.shape), x, depth))
        return {TAG: "objarray", "shape": list(arr.shape), "v": out}

    def column(self, obj: Any, depth: int, kind: str) -> Any:
        """The values of a Series, a DataFrame column or an Index."""
        import numpy as np
        import pandas as pd
        dtype = obj.dtype
        if isinstance(dtype, np.dtype):
            return self.ndarray(obj.to_numpy(), depth)
        if isinstance(dtype, pd.CategoricalDtype):
            cat = obj.array
            return {TAG: "categorical", "ordered": bool(cat.ordered),
                    "categories": self.index(cat.categories, depth + 1, ".categories"),
                    "codes": self.npy(np.asarray(cat.codes), kind)}
        if dtype.name in MASKED_DTYPES:
            arr = obj.array
            mask = np.asarray(arr.isna(), dtype=bool)
            data = arr.to_numpy(dtype=dtype.numpy_dtype, na_value=dtype.numpy_dtype.type(0))
            return {TAG: "masked", "dtype": dtype.name, "v": self.npy(data, kind),
                    "mask": self.npy(mask, kind)}
        if isinstance(dtype, pd.StringDtype) and dtype.storage == "python":
            data = obj.array.to_numpy(dtype=object, na_value=None)
            return {TAG: "strings", "v": self.ndarray(data, depth)["v"]}
        raise self.refuse_dtype(kind, dtype)

    def index(self, idx: Any, depth: int, where: str) -> Any:
        import pandas as pd
        self.path.append(("", where))
        t = type(idx)
        if t is pd.RangeIndex:
            out = {TAG: "range", "v": [idx.start, idx.stop, idx.step],
                   "name": self.part(("", ".name"), idx.name, depth)}
        elif t is pd.MultiIndex:
            names = [self.part(("", ".names"), n, depth) for n in idx.names]
            out = {TAG: "multiindex", "names": names,
                   "levels": [self.index(lv, depth + 1, ".levels") for lv in idx.levels],
                   "codes": [self.npy(c, "MultiIndex") for c in idx.codes]}
        elif _type_name(t).endswith("Index") and t.__module__.startswith("pandas."):
            freq = getattr(idx, "freq", None)
            out = {TAG: "index", "name": self.part(("", ".name"), idx.name, depth),
                   "v": self.column(idx, depth + 1, "Index"),
                   "freq": None if freq is None else freq.freqstr}
        else:
            raise _Unsupported(str(self.refuse(idx)))
        self.path.pop()
        return out

    def dataframe(self, df: Any, depth: int) -> Any:
        columns = self.index(df.columns, depth + 1, ".columns")
        index = self.index(df.index, depth + 1, ".index")
        data = []
        for i in range(df.shape[1]):
            self.path.append(("key", df.columns[i]))
            data.append(self.column(df.iloc[:, i], depth + 1, "column"))
            self.path.pop()
        return {TAG: "dataframe", "index": index, "columns": columns, "v": data}


_scalar_types: Optional[frozenset[type]] = None


def _numpy_scalar_types(np: Any) -> frozenset[type]:
    """The exact numpy scalar classes (np.int64, np.float64, np.bool_, np.str_...)."""
    global _scalar_types
    if _scalar_types is None:
        _scalar_types = frozenset(t for t in np.sctypeDict.values() if t is not np.object_)
    return _scalar_types


def is_plain(value: Any) -> bool:
    """Whether `value` is its own encoding: None, a bool, a finite float, a short str, an int
    that fits in 64 bits. A caller on a hot path checks this before building encode()'s
    `what`."""
    t = type(value)
    return ((t is int and -INT_PLAIN_MAX < value < INT_PLAIN_MAX) or value is None or t is bool
            or (t is str and len(value) < 4096) or (t is float and math.isfinite(value)))


def encode(value: Any, what: str, other: Optional[Other] = None) -> Any:
    """Turn `value` into plain JSON data (dict, list, str, int, float, bool, None).

    `what` starts the error messages and reads as a sentence with " a list" after it:
    "is_prime returned" or "argument 1 of is_prime is". Raises CodecError for a type that cannot
    be sent (including any subclass of a supported type), for nesting deeper than DEPTH_MAX and
    for more than SIZE_MAX bytes. Never calls a method of a class the student wrote. With
    `other`, a value that is not data (anywhere inside `value`) is not refused when other(v)
    returns a JSON object with a tag (one decode() knows only from its `tags`): that object
    stands for it. other(v) returning None refuses it as without the hook."""
    if is_plain(value):  # the common plain values, without an encoder (a call's hot path)
        return value
    return _Encoder(what, other).value(value, 0)


def dumps(value: Any, what: str) -> bytes:
    """encode(), as UTF-8 JSON bytes of at most SIZE_MAX. Raises CodecError like encode()."""
    text = json.dumps(encode(value, what), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"))
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates in str cross too
    if len(data) > SIZE_MAX:
        raise CodecError(f"{what} a value of more than {SIZE_MAX // (1024 * 1024)} MiB "
                         f"(encoded), which {CANNOT}. Return a smaller value.")
    return data


class _Decoder:
    """One decoding: every check of the structure, and the libraries once loaded."""

    def __init__(self, tags: Optional[Tags] = None) -> None:
        self.tags = tags

    def value(self, d: Any, depth: int) -> Any:
        if depth > DEPTH_MAX:
            raise _malformed(f"it is nested more than {DEPTH_MAX} levels deep")
        t = type(d)
        if d is None or t is bool or t is str:
            return d
        if t is int:
            if not -INT_PLAIN_MAX < d < INT_PLAIN_MAX:
                raise _malformed("a large int is not tagged")
            return d
        if t is float:
            if not math.isfinite(d):
                raise _malformed("a nan or infinite float is not tagged")
            return d
        if t is list:
            return [self.value(x, depth + 1) for x in d]
        if t is not dict:
            raise _malformed(f"it holds {_a(_type_name(t))}")
        tag = d.get(TAG)
        handler = _VALUE_TAGS.get(tag) if type(tag) is str else None
        if TAG not in d:
            raise _malformed(f"a JSON object has no {TAG!r} tag")
        if handler is None:
            extra = self.tags.get(tag) if self.tags is not None and type(tag) is str else None
            if extra is None:
                raise _malformed(f"unknown tag {str(tag)[:40]!r}")
            return extra(d, lambda x: self.value(x, depth + 1))
        return handler(self, d, depth)

    def list_of(self, d: dict[str, Any], depth: int, *fields: str) -> list[Any]:
        """Check that `d` has exactly the fields given (besides the tag), and return "v"."""
        _fields(d, *fields)
        v = d.get("v")
        if type(v) is not list:
            raise _malformed(f"the {d[TAG]!r} tag holds no list")
        return [self.value(x, depth + 1) for x in v]

    def t_int(self, d: dict[str, Any], depth: int) -> int:
        _fields(d, "v")
        v = d["v"]
        digits = v[1:] if type(v) is str and v[:1] == "-" else v
        if (type(digits) is not str or not digits
                or any(c not in "0123456789abcdef" for c in digits)):
            raise _malformed("a large int is not hexadecimal")
        return int(v, 16)

    def t_float(self, d: dict[str, Any], depth: int) -> float:
        _fields(d, "v")
        if d["v"] not in ("nan", "inf", "-inf") or type(d["v"]) is not str:
            raise _malformed("a special float is not nan, inf or -inf")
        return float(d["v"])

    def t_complex(self, d: dict[str, Any], depth: int) -> complex:
        parts = self.list_of(d, depth, "v")
        if len(parts) != 2 or any(type(p) is not float for p in parts):
            raise _malformed("a complex is not two floats")
        return complex(parts[0], parts[1])

    def t_tuple(self, d: dict[str, Any], depth: int) -> tuple[Any, ...]:
        return tuple(self.list_of(d, depth, "v"))

    def t_set(self, d: dict[str, Any], depth: int) -> Any:
        items = self.list_of(d, depth, "v")
        try:
            out = set(items) if d[TAG] == "set" else frozenset(items)
        except TypeError:
            raise _malformed("a set holds an unhashable value") from None
        if len(out) != len(items):
            raise _malformed("a set holds the same value twice")
        return out

    def t_dict(self, d: dict[str, Any], depth: int) -> dict[Any, Any]:
        _fields(d, "v")
        pairs = d["v"]
        if type(pairs) is not list:
            raise _malformed("a dict holds no list of pairs")
        out = {}
        for pair in pairs:
            if type(pair) is not list or len(pair) != 2:
                raise _malformed("a dict item is not a [key, value] pair")
            key = self.value(pair[0], depth + 1)
            try:
                if key in out:
                    raise _malformed("a dict holds the same key twice")
                out[key] = self.value(pair[1], depth + 1)
            except TypeError:
                raise _malformed("a dict key is unhashable") from None
        return out

    def t_range(self, d: dict[str, Any], depth: int) -> range:
        parts = self.list_of(d, depth, "v")
        if len(parts) != 3 or any(type(p) is not int for p in parts) or parts[2] == 0:
            raise _malformed("a range is not three ints with a step other than 0")
        return range(*parts)

    def t_bytes(self, d: dict[str, Any], depth: int) -> Any:
        _fields(d, "v")
        if type(d["v"]) is not str:
            raise _malformed("bytes are not a base64 string")
        data = _b64(d["v"])
        return data if d[TAG] == "bytes" else bytearray(data)

    def npy(self, text: Any) -> Any:
        """The array in a base64 .npy string, checked before anything is allocated."""
        import numpy as np
        from numpy.lib import format as npformat
        if type(text) is not str:
            raise _malformed("an array is not a base64 string")
        data = _b64(text)
        fp = io.BytesIO(data)
        try:
            version = npformat.read_magic(fp)
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(fp, NPY_HEADER_MAX)
            elif version == (2, 0):
                shape, fortran, dtype = npformat.read_array_header_2_0(fp, NPY_HEADER_MAX)
            else:
                raise _malformed(f"the .npy version {version} is not 1.0 or 2.0")
        except ValueError as e:
            raise _malformed(f"an array is not a .npy file ({e})") from None
        if dtype.hasobject:
            raise _malformed("an array needs pickle (it holds Python objects)")
        count = math.prod(shape)
        if count * dtype.itemsize != len(data) - fp.tell() or count > SIZE_MAX:
            raise _malformed("an array's data does not match its shape")
        flat = np.frombuffer(data, dtype=dtype, count=count, offset=fp.tell())
        # A copy: writable, and owning its memory rather than the message's.
        return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")

    def t_ndarray(self, d: dict[str, Any], depth: int) -> Any:
        _fields(d, "v")
        return self.npy(d["v"])

    def t_objarray(self, d: dict[str, Any], depth: int) -> Any:
        import numpy as np
        items = self.list_of(d, depth, "v", "shape")
        shape = d["shape"]
        if (type(shape) is not list or len(shape) > 32
                or any(type(n) is not int or n < 0 for n in shape)
                or math.prod(shape) != len(items)):
            raise _malformed("an object array's shape does not match its items")
        out = np.empty(len(items), dtype=object)
        for i, x in enumerate(items):
            out[i] = x
        return out.reshape(shape)

    def t_npscalar(self, d: dict[str, Any], depth: int) -> Any:
        _fields(d, "v")
        arr = self.npy(d["v"])
        if arr.ndim != 0:
            raise _malformed("a numpy scalar is not a 0-d array")
        return arr[()]

    def t_pandas_scalar(self, d: dict[str, Any], depth: int) -> Any:
        import pandas as pd
        if d[TAG] in ("NA", "NaT"):
            _fields(d)
            return pd.NA if d[TAG] == "NA" else pd.NaT
        _fields(d, "v")
        if type(d["v"]) is not int or d["v"] == -2 ** 63:  # that value is NaT
            raise _malformed(f"a {d[TAG]} is not an int of nanoseconds")
        make = pd.Timestamp if d[TAG] == "timestamp" else pd.Timedelta
        return _build(lambda: make(d["v"], unit="ns"))

    def t_series(self, d: dict[str, Any], depth: int) -> Any:
        import pandas as pd
        _fields(d, "v", "name", "index")
        name = self.value(d["name"], depth + 1)
        index = self.index(d["index"], depth + 1)
        values = self.column(d["v"], depth + 1)
        if len(values) != len(index):
            raise _malformed("a Series has more or fewer values than index labels")
        return _build(lambda: pd.Series(values, index=index, name=name, copy=False))

    def t_dataframe(self, d: dict[str, Any], depth: int) -> Any:
        import pandas as pd
        _fields(d, "v", "index", "columns")
        index = self.index(d["index"], depth + 1)
        columns = self.index(d["columns"], depth + 1)
        if type(d["v"]) is not list or len(d["v"]) != len(columns):
            raise _malformed("a DataFrame has more or fewer columns than column labels")
        data = [self.column(c, depth + 1) for c in d["v"]]
        if any(len(c) != len(index) for c in data):
            raise _malformed("a DataFrame column has more or fewer values than index labels")

        def build() -> Any:
            df = pd.DataFrame(dict(enumerate(data)), index=index) if data else (
                pd.DataFrame(index=index))
            df.columns = columns
            return df
        return _build(build)

    def index(self, d: Any, depth: int) -> Any:
        import numpy as np
        import pandas as pd
        if depth > DEPTH_MAX:
            raise _malformed(f"it is nested more than {DEPTH_MAX} levels deep")
        tag = d.get(TAG) if type(d) is dict else None
        if tag == "range":
            _fields(d, "v", "name")
            v = d["v"]
            if type(v) is not list or len(v) != 3 or any(type(n) is not int for n in v) or (
                    v[2] == 0):
                raise _malformed("a RangeIndex is not [start, stop, step]")
            name = self.value(d["name"], depth + 1)
            return _build(lambda: pd.RangeIndex(v[0], v[1], v[2], name=name))
        if tag == "multiindex":
            _fields(d, "levels", "codes", "names")
            if (any(type(d[k]) is not list for k in ("levels", "codes", "names"))
                    or not len(d["levels"]) == len(d["codes"]) == len(d["names"]) > 0):
                raise _malformed("a MultiIndex has mismatched levels, codes and names")
            levels = [self.index(lv, depth + 1) for lv in d["levels"]]
            codes = [self.npy(c) for c in d["codes"]]
            if any(c.ndim != 1 or c.dtype.kind not in "iu" for c in codes):
                raise _malformed("a MultiIndex's codes are not integer arrays")
            names = [self.value(n, depth + 1) for n in d["names"]]
            return _build(lambda: pd.MultiIndex(levels=levels, codes=codes, names=names,
                                                verify_integrity=True))
        if tag == "index":
            _fields(d, "v", "name", "freq")
            values = self.column(d["v"], depth + 1)
            name = self.value(d["name"], depth + 1)
            freq = d["freq"]
            if freq is not None and (type(freq) is not str or len(freq) > 40):
                raise _malformed("an index frequency is not a short string")
            kind = values.dtype.kind if isinstance(values, np.ndarray) else ""
            if freq is not None and kind not in "mM":
                raise _malformed("an index with a frequency holds no dates or durations")
            if kind == "M":
                return _build(lambda: pd.DatetimeIndex(values, freq=freq, name=name))
            if kind == "m":
                return _build(lambda: pd.TimedeltaIndex(values, freq=freq, name=name))
            return _build(lambda: pd.Index(values, dtype=values.dtype, name=name))
        raise _malformed("an index has an unknown form")

    def column(self, d: Any, depth: int) -> Any:
        import pandas as pd
        if depth > DEPTH_MAX:
            raise _malformed(f"it is nested more than {DEPTH_MAX} levels deep")
        tag = d.get(TAG) if type(d) is dict else None
        if tag == "ndarray" or tag == "objarray":
            values = self.value(d, depth)
            if values.ndim != 1:
                raise _malformed("a column is not one-dimensional")
            return values
        if tag == "categorical":
            _fields(d, "categories", "ordered", "codes")
            if type(d["ordered"]) is not bool:
                raise _malformed("a categorical's 'ordered' is not a bool")
            categories = self.index(d["categories"], depth + 1)
            codes = self.npy(d["codes"])
            if codes.ndim != 1 or codes.dtype.kind != "i":
                raise _malformed("a categorical's codes are not integers")
            return _build(lambda: pd.Categorical.from_codes(
                codes, dtype=pd.CategoricalDtype(categories, ordered=d["ordered"])))
        if tag == "masked":
            _fields(d, "dtype", "v", "mask")
            if d["dtype"] not in MASKED_DTYPES or type(d["dtype"]) is not str:
                raise _malformed("a masked column has an unknown dtype")
            dtype = pd.api.types.pandas_dtype(d["dtype"])
            data, mask = self.npy(d["v"]), self.npy(d["mask"])
            if (data.dtype != dtype.numpy_dtype or mask.dtype != bool or data.ndim != 1
                    or data.shape != mask.shape):
                raise _malformed("a masked column's values and mask do not match its dtype")
            return _build(lambda: dtype.construct_array_type()(data, mask))
        if tag == "strings":
            _fields(d, "v")
            if type(d["v"]) is not list or any(
                    x is not None and type(x) is not str for x in d["v"]):
                raise _malformed("a string column holds something other than str and null")
            return _build(lambda: pd.array(d["v"], dtype="string"))
        raise _malformed("a column has an unknown form")


def _fields(d: dict[str, Any], *names: str) -> None:
    if len(d) != len(names) + 1 or any(n not in d for n in names):
        raise _malformed(f"the {d[TAG]!r} tag has fields {sorted(d)[:10]!r}")


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise _malformed("a base64 string is not valid base64") from None


def _build(make: Callable[[], Any]) -> Any:
    """Run a numpy or pandas constructor on checked parts; what it still refuses is malformed."""
    try:
        return make()
    except (ValueError, TypeError, OverflowError, IndexError, KeyError) as e:
        raise _malformed(f"pandas refused it ({str(e)[:200]})") from None


_VALUE_TAGS: dict[str, Callable[[_Decoder, dict[str, Any], int], Any]] = {
    "int": _Decoder.t_int, "float": _Decoder.t_float, "complex": _Decoder.t_complex,
    "tuple": _Decoder.t_tuple, "set": _Decoder.t_set, "frozenset": _Decoder.t_set,
    "dict": _Decoder.t_dict, "bytes": _Decoder.t_bytes, "bytearray": _Decoder.t_bytes,
    "pyrange": _Decoder.t_range,
    "ndarray": _Decoder.t_ndarray, "objarray": _Decoder.t_objarray,
    "npscalar": _Decoder.t_npscalar, "series": _Decoder.t_series,
    "dataframe": _Decoder.t_dataframe, "NA": _Decoder.t_pandas_scalar,
    "NaT": _Decoder.t_pandas_scalar, "timestamp": _Decoder.t_pandas_scalar,
    "timedelta": _Decoder.t_pandas_scalar,
}


def decode(data: Any, tags: Optional[Tags] = None) -> Any:
    """Rebuild the value that encode() turned into `data` (parsed JSON). Raises CodecError for
    any structure encode() cannot have produced. Never unpickles or runs code from `data`; the
    caller owns the result, and every array in it is a writable copy. `tags` adds the tags of
    encode()'s `other` hook: tags[name](the tag's dict, a decoder for nested values)."""
    t = type(data)  # the common plain values, without a decoder (a call's hot path)
    if data is None or t is str or t is bool or (
            t is int and -INT_PLAIN_MAX < data < INT_PLAIN_MAX) or (
            t is float and math.isfinite(data)):
        return data
    return _Decoder(tags).value(data, 0)


def _refuse_constant(name: str) -> Any:
    raise _malformed(f"it holds the JSON constant {name}")


def _pairs_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _malformed("a JSON object has the same key twice")
    return out


def loads(data: bytes) -> Any:
    """decode() the UTF-8 JSON bytes that dumps() made. Raises CodecError when they are larger
    than SIZE_MAX, not JSON, or not an encoding."""
    if type(data) is not bytes:
        raise _malformed("it is not bytes")
    if len(data) > SIZE_MAX:
        raise _malformed(f"it is larger than {SIZE_MAX // (1024 * 1024)} MiB")
    try:
        parsed = json.loads(data.decode("utf-8", "surrogatepass"),
                            parse_constant=_refuse_constant, object_pairs_hook=_pairs_once)
    except RecursionError:
        raise _malformed("it is nested too deeply") from None
    except ValueError as e:  # also UnicodeDecodeError and ints of more than 4300 digits
        if isinstance(e, CodecError):
            raise
        raise _malformed(f"it is not JSON ({str(e)[:100]})") from None
    return decode(parsed)


def is_mutable(value: Any) -> bool:
    """Whether copy_back() applies: an exact list, dict, set, bytearray, numpy array, pandas
    Series or DataFrame."""
    t = type(value)
    if t is list or t is dict or t is set or t is bytearray:
        return True
    np, pd = sys.modules.get("numpy"), sys.modules.get("pandas")
    return ((np is not None and t is np.ndarray)
            or (pd is not None and (t is pd.Series or t is pd.DataFrame)))


def copy_back(original: Any, updated: Any) -> None:
    """Make `original` (an argument the tests passed) equal to `updated` (its decoded state
    after the student's function ran) in place, so the tests see in-place changes. Does nothing
    for immutable values. Raises CodecError when the types differ or a numpy array changed
    shape or dtype; `original` is then unchanged."""
    if not is_mutable(original):
        return
    t = type(original)
    if type(updated) is not t:
        raise CodecError(f"The function replaced {_a(_type_name(t))} argument's contents with "
                         f"{_a(_type_name(type(updated)))}; that cannot be copied back.")
    if t is list or t is bytearray:
        original[:] = updated
    elif t is dict or t is set:
        original.clear()
        original.update(updated)
    elif t.__module__.startswith("numpy"):
        if original.shape != updated.shape or original.dtype != updated.dtype:
            raise CodecError(
                f"The function changed a numpy array argument from shape {original.shape} "
                f"{original.dtype} to {updated.shape} {updated.dtype} in place; in-place "
                f"changes of shape or dtype are not supported. Return the new array instead.")
        if not original.flags.writeable:
            if original.tobytes() != updated.tobytes():
                raise CodecError("The function changed a read-only numpy array argument.")
            return
        original[...] = updated
    else:
        # What pandas' own inplace=True methods do: take over the other object's data, index,
        # columns and dtypes, keeping the caller's object.
        original._update_inplace(updated)
        if t.__name__ == "Series":
            original.name = updated.name
