"""The student's side of process isolation: `run.py student --names a,b`.

This sandbox holds the notebook and the exercise's data files, and nothing of the teacher's: no
hidden test, no pytest. A supervisor, which never runs student code, forks a worker that loads
the notebook; the tests then talk to the worker directly, over a socket pair the supervisor
makes for each worker and hands to the tests' sandbox over the link (SCM_RIGHTS).

The link (fd 5, tests <-> supervisor) is the control channel; frames carry an id, and a reply
to a request the tests gave up on is dropped by them:

    tests -> {"id", "op": "hello"}
          <- {"id", "kind": "ready", "gen": n, "message", "fd": true} + the worker's socket
             ("message": the loader's advice, if any), or {"id", "kind": "load", "message"}:
             the notebook did not load
    tests -> {"id", "op": "reap", "during": "is_prime()"}      the worker's socket closed
          <- {"id", "kind": "reaped", "died": "The notebook stopped its Python process..."}
    tests -> {"id", "op": "reset"}          after a call ran out of time, or a reap
          <- the same as hello, for a fresh worker (generation n + 1)

The worker's socket carries one request at a time and its reply, without ids: when a request
runs out of time the tests ask for a reset and never read that socket again.

    tests -> {"o": OP, "a": [arg, ...], "k": {name: arg}, "f": [id, ...]}
          <- {"v": value}                        what OP returned
          <- {"x": exception, "t": "Traceback..."}  what OP raised, and where
          <- {"e": "message"}                    a value that cannot be sent between the sandboxes
          plus, when there is any: "o" and "r" (what the notebook printed to stdout and stderr),
          "c" (descriptions of classes the tests have not seen from this worker) and, for a
          call, "b" and "kb" (the caller's lists, dicts, arrays and frames the call changed)

Arguments and values are codec.py encodings. OP is one of OPS below ("call" takes the callable
as its first argument, "getattr" the object and a name, "add" two operands...), "global" (a
name of the notebook's module) or "class" (a class by its key). "f" lists handles the tests no
longer hold; the worker forgets them first.

What the codec cannot carry as data stays here and crosses as a handle, a tag with an id in the
worker's table of objects (`Table`):

    {"$t": "h", "i": id, "c": class key}           an object (a Robot, a Figure, a generator)
    {"$t": "fn", "i": id, "n": name, "q": qualname, "d": doc, "s": signature, "l": line}
                                                   a plain function
    {"$t": "exc", "i": id, "c": class key, "a": [arg, ...], "m": str(e)}   an exception
    {"$t": "cls", "c": class key}                  a class
    {"$t": "type", "n": name}                      a builtin type (int, ValueError...)

and the tests send {"$t": "r", "i": id} for a handle they pass back, or a "type" tag. A class
key is "module:qualname" when that path leads back to the class (so the tests keep one mirror
class per class across workers), "#gen:id" otherwise. A class description lists its bases'
keys ("builtins:ValueError" for a builtin), the special methods its instances have, and whether
they are hashable; it is read from the class's own dictionaries, without calling its code.
"""

import builtins
import io
import math
import operator
import os
import signal
import socket
import sys
import time
import traceback
import types
from types import ModuleType
from typing import Any, Callable, Optional

OUTPUT_MAX = 64 * 1024  # printed text kept per request
MESSAGE_MAX = 2000
TRACEBACK_MAX = 6000
CRASH_GRACE = 1.0  # seconds a worker that closed its socket gets to finish exiting
SUBMISSION = "submission.py"  # the file name the notebook's code objects carry (loader.py)
# Special methods the tests' side forwards when an object's class has them (proxy.py).
SPECIALS = frozenset(
    ["__call__", "__len__", "__length_hint__", "__iter__", "__next__", "__reversed__",
     "__contains__", "__getitem__", "__setitem__", "__delitem__", "__enter__", "__exit__",
     "__int__", "__float__", "__complex__", "__index__", "__round__", "__trunc__",
     "__floor__", "__ceil__", "__abs__", "__neg__", "__pos__", "__invert__", "__bytes__",
     "__fspath__", "__divmod__", "__rdivmod__"]
    + [f"__{p}{op}__" for op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod",
                                  "pow", "lshift", "rshift", "and", "xor", "or")
       for p in ("", "r", "i")])
# Builtin exceptions that stop a program: they cross as RuntimeError and never stop pytest.
STOPPING = frozenset({"KeyboardInterrupt", "SystemExit", "GeneratorExit"})

# Read a class's own attributes without going through a metaclass the student wrote.
_type_name: Callable[[type], str] = type.__dict__["__name__"].__get__
_type_qualname: Callable[[type], str] = type.__dict__["__qualname__"].__get__
_type_module: Callable[[type], Any] = type.__dict__["__module__"].__get__
_type_mro: Callable[[type], tuple[type, ...]] = type.__dict__["__mro__"].__get__
_type_bases: Callable[[type], tuple[type, ...]] = type.__dict__["__bases__"].__get__
_type_dict: Callable[[type], Any] = type.__dict__["__dict__"].__get__


def _enter(obj: Any) -> Any:
    return type(obj).__enter__(obj)


def _exit(obj: Any, exc: Any = None) -> bool:
    """`with` ends: `exc` is the exception the block raised (one of the notebook's, or a
    stand-in for one of the tests', of the same builtin class and without its text), or
    None."""
    if exc is None:
        return bool(type(obj).__exit__(obj, None, None, None))
    if isinstance(exc, list):
        cls = getattr(builtins, str(exc[0]), None)
        if not (isinstance(cls, type) and issubclass(cls, Exception)):
            cls = Exception
        try:
            exc = cls(str(exc[1]))
        except Exception:  # a builtin that wants other arguments (UnicodeDecodeError)
            exc = Exception(str(exc[1]))
    return bool(type(obj).__exit__(obj, type(exc), exc, exc.__traceback__))


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _copy(obj: Any) -> Any:
    import copy
    return copy.copy(obj)


def _deepcopy(obj: Any) -> Any:
    import copy
    return copy.deepcopy(obj)


OPS: dict[str, Callable[..., Any]] = {
    "call": _call, "getattr": getattr, "setattr": setattr, "delattr": delattr, "dir": dir,
    "len": len, "length_hint": operator.length_hint, "iter": iter, "next": next,
    "reversed": reversed, "contains": operator.contains, "getitem": operator.getitem,
    "setitem": operator.setitem, "delitem": operator.delitem, "str": str, "repr": repr,
    "format": format, "hash": hash, "bytes": bytes, "fspath": os.fspath, "int": int,
    "float": float, "complex": complex, "index": operator.index, "round": round,
    "trunc": math.trunc, "floor": math.floor, "ceil": math.ceil, "abs": abs,
    "neg": operator.neg, "pos": operator.pos, "invert": operator.invert, "divmod": divmod,
    "pow": pow, "ipow": operator.ipow, "enter": _enter, "exit": _exit, "copy": _copy,
    "deepcopy": _deepcopy,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
    "gt": operator.gt, "ge": operator.ge,
}
for _op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "lshift", "rshift",
            "and", "xor", "or"):
    _name = _op + "_" if _op in ("and", "or") else _op
    OPS[_op] = getattr(operator, _name)
    OPS["i" + _op] = getattr(operator, "i" + _op)


class _Capped(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_MAX characters and drops the rest, so a call
    that prints without end cannot exhaust the worker's memory."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if self.size < OUTPUT_MAX:
            self.parts.append(s[:OUTPUT_MAX - self.size])
            self.size += len(self.parts[-1])
        return len(s)

    def take(self) -> str:
        """What was written since the last take()."""
        if not self.parts:
            return ""
        text = "".join(self.parts)
        self.parts.clear()
        self.size = 0
        return text


def _safe_str(e: BaseException) -> str:
    """str(e) capped; a notebook's exception may define a __str__ that fails."""
    try:
        text = str(e)
    except BaseException:  # noqa: B902 - whatever the notebook's __str__ raises
        text = f"(the {_type_name(type(e))} could not be shown)"
    if type(text) is not str:
        text = f"(the {_type_name(type(e))} could not be shown)"
    return text[:MESSAGE_MAX]


def _traceback_text(e: BaseException) -> str:
    """The notebook's traceback of `e`, without this module's frames, for the teacher."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    try:
        text = "".join(traceback.format_exception(type(e), e, tb))
    except BaseException:  # noqa: B902 - the notebook's __str__ or __repr__ failing
        text = f"{_type_name(type(e))} (its traceback could not be shown)\n"
    if len(text) > TRACEBACK_MAX:
        text = "...\n" + text[-TRACEBACK_MAX:]
    return text


class Table:
    """The worker's objects that the tests hold handles to, and the classes it described."""

    def __init__(self, module: ModuleType, gen: int, codec: Any) -> None:
        self.module = module
        self.gen = gen
        self.codec = codec
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}  # id(obj) -> handle id; objects[] keeps obj alive
        self.next_id = 0
        self.pinned: set[int] = set()  # handles of the module's names: never released
        self.keys: dict[int, str] = {}  # id(cls) -> class key, for classes described
        self.described: list[dict[str, Any]] = []  # descriptions not yet sent
        self.tags = {"r": self._resolve, "type": self._builtin_type, "slice": self._slice}

    def register(self, obj: Any) -> int:
        """The handle id of `obj`, the same for the same object while the tests hold it."""
        known = self.ids.get(id(obj))
        if known is not None:
            return known
        self.next_id += 1
        self.objects[self.next_id] = obj
        self.ids[id(obj)] = self.next_id
        return self.next_id

    def release(self, ids: Any) -> None:
        """Forget the handles the tests no longer hold (not those of the module's names,
        which the tests keep and find again by name)."""
        if type(ids) is not list:
            return
        for i in ids:
            if type(i) is not int or i in self.pinned:
                continue
            obj = self.objects.pop(i, None)
            if obj is not None:
                self.ids.pop(id(obj), None)

    def _resolve(self, d: dict[str, Any], _: Any) -> Any:
        i = d.get("i")
        if len(d) != 2 or type(i) is not int or i not in self.objects:
            raise self.codec.CodecError("The tests passed a handle this worker does not hold.")
        return self.objects[i]

    def _builtin_type(self, d: dict[str, Any], _: Any) -> Any:
        value = getattr(builtins, str(d.get("n")), None)
        if len(d) != 2 or not isinstance(value, type):
            raise self.codec.CodecError("The tests passed a type that is not a builtin.")
        return value

    def _slice(self, d: dict[str, Any], value: Callable[[Any], Any]) -> Any:
        parts = value(d.get("v"))
        if len(d) != 2 or type(parts) is not list or len(parts) != 3:
            raise self.codec.CodecError("The tests passed a slice that is not one.")
        return slice(*parts)

    def decode(self, data: Any) -> Any:
        return self.codec.decode(data, self.tags)

    def encode(self, value: Any, what: str) -> Any:
        return self.codec.encode(value, what, self.tag)

    # What crosses as a handle ------------------------------------------------------------

    def tag(self, value: Any) -> dict[str, Any]:
        """The codec's hook: the tag of a value that is not data."""
        t = type(value)
        if issubclass(t, type):
            return self.class_tag(value)
        if t is types.FunctionType:
            return self.function_tag(value)
        if issubclass(t, BaseException):
            return self.exception_tag(value)
        return {"$t": "h", "i": self.register(value), "c": self.describe(t)}

    def class_tag(self, cls: type) -> dict[str, Any]:
        name = _type_name(cls)
        if _type_module(cls) == "builtins" and getattr(builtins, name, None) is cls:
            return {"$t": "type", "n": name}  # the tests' side has the same class
        return {"$t": "cls", "c": self.describe(cls)}

    def function_tag(self, fn: types.FunctionType) -> dict[str, Any]:
        code = fn.__code__
        doc = fn.__doc__
        return {"$t": "fn", "i": self.register(fn), "n": str(fn.__name__),
                "q": str(fn.__qualname__), "d": doc if type(doc) is str else None,
                "s": self.signature(fn),
                "l": code.co_firstlineno if code.co_filename == SUBMISSION else None}

    def exception_tag(self, e: BaseException) -> dict[str, Any]:
        key = self.describe(type(e))
        raw = list(e.args) if type(e.args) is tuple else []
        # An OSError keeps the file it names outside its args: a builtin one is rebuilt from
        # what its constructor takes, so "No such file or directory: 'data/x.csv'" keeps it.
        if key.startswith("builtins:") and isinstance(e, OSError) and len(raw) == 2 and (
                e.filename is not None):
            raw += [e.filename] + ([None, e.filename2] if e.filename2 is not None else [])
        try:
            args = self.encode(raw, "its args are")
        except self.codec.CodecError:
            args = []
        # A builtin exception arrives as itself, with nothing to forward: no handle.
        return {"$t": "exc", "i": None if key.startswith("builtins:") else self.register(e),
                "c": key, "a": args, "m": _safe_str(e)}

    def signature(self, obj: Any) -> Optional[dict[str, Any]]:
        """inspect.signature(obj) as data: parameters [name, kind, default tag or absent,
        annotation], annotations as ["b", builtin name] or ["s", text]; None when there
        is none."""
        import inspect
        try:
            sig = inspect.signature(obj)
        except BaseException:  # noqa: B902 - no signature, or the notebook's code failing
            return None

        def annotation(a: Any) -> Any:
            if a is inspect.Parameter.empty:
                return None
            if isinstance(a, type) and _type_module(a) == "builtins":
                return ["b", _type_name(a)]
            return ["s", a if isinstance(a, str) else inspect.formatannotation(a)]

        params = []
        try:
            for p in sig.parameters.values():
                item: list[Any] = [p.name, int(p.kind), annotation(p.annotation)]
                if p.default is not inspect.Parameter.empty:
                    item.append(self.encode(p.default, f"the default of {p.name} is"))
                params.append(item)
            return {"p": params, "r": annotation(sig.return_annotation)}
        except BaseException:  # noqa: B902 - a default too large, an annotation failing
            return None

    def describe(self, cls: type) -> str:
        """The key of `cls`, describing it (and its bases first) when the tests have not
        seen it from this worker. Reads the class's own dictionaries only."""
        known = self.keys.get(id(cls))
        if known is not None:
            return known
        module, qualname = _type_module(cls), _type_qualname(cls)
        if module == "builtins" and issubclass(cls, BaseException):
            return f"builtins:{_type_name(cls)}"  # the tests' side has the same class
        key = self._key(cls, module, qualname)
        bases = []
        for base in _type_bases(cls):
            bases.append(f"builtins:{_type_name(base)}" if _type_module(base) == "builtins"
                         else self.describe(base))
        specials, unhashable = set(), False
        hash_seen = False
        for k in _type_mro(cls):
            d = _type_dict(k)
            specials.update(name for name in SPECIALS if name in d)
            if not hash_seen and "__hash__" in d:
                hash_seen, unhashable = True, d["__hash__"] is None
        doc = _type_dict(cls).get("__doc__")
        self.keys[id(cls)] = key
        self.described.append({
            "k": key, "i": self.register(cls), "n": _type_name(cls), "q": qualname,
            "m": module if type(module) is str else "", "d": doc if type(doc) is str else None,
            "b": bases, "s": sorted(specials), "u": unhashable,
            "e": issubclass(cls, BaseException)})
        return key

    def _key(self, cls: type, module: Any, qualname: str) -> str:
        """"module:qualname" when that path finds `cls` again, "#gen:id" otherwise."""
        if type(module) is str and "<locals>" not in qualname:
            obj: Any = sys.modules.get(module)
            try:
                for part in qualname.split("."):
                    obj = getattr(obj, part)
            except BaseException:  # noqa: B902 - a metaclass's __getattr__ failing
                obj = None
            if obj is cls:
                return f"{module}:{qualname}"
        return f"#{self.gen}:{self.register(cls)}"

    def find_class(self, key: Any) -> Any:
        """The class with `key` in this worker (the tests' mirror of it outlived the worker
        that described it); LookupError when there is none."""
        if type(key) is str and ":" in key and not key.startswith("#"):
            module, qualname = key.split(":", 1)
            obj: Any = sys.modules.get(module)
            if obj is not None:
                for part in qualname.split("."):
                    obj = getattr(obj, part)
                if isinstance(obj, type) and self._key(obj, module, qualname) == key:
                    return obj
        raise LookupError(f"the notebook has no class {key}")


class Worker:
    """Answers the tests' requests with the notebook's module."""

    def __init__(self, module: ModuleType, gen: int, codec: Any) -> None:
        self.table = Table(module, gen, codec)
        self.codec = codec
        self.out, self.err = _Capped(), _Capped()
        self.ops = dict(OPS, **{"global": lambda name: getattr(module, name),
                                "class": self.table.find_class})

    def serve(self, chan: Any) -> None:
        """Answer requests until the tests close the socket."""
        while True:
            try:
                msg = chan.recv()
            except Exception:  # the tests are done, or sent garbage: either way we are done
                return
            reply = self.answer(msg)
            try:
                chan.send(reply)
            except ValueError as e:  # over the frame limit
                chan.send({"e": f"The value is too large: it cannot be sent between the "
                                f"sandboxes ({e})."})

    def answer(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Run one request and build its reply."""
        table, codec = self.table, self.codec
        if "f" in msg:
            table.release(msg["f"])
        op = msg.get("o")
        fn = self.ops.get(op) if type(op) is str else None
        raw_args, raw_kwargs = msg.get("a"), msg.get("k", {})
        try:
            if (fn is None and op != "signature") or type(raw_args) is not list or (
                    type(raw_kwargs) is not dict):
                raise codec.CodecError(f"The request {str(op)[:40]!r} is malformed.")
            args = [table.objects.get(a.get("i"), a) if type(a) is dict and len(a) == 2
                    and a.get("$t") == "r" else a for a in raw_args]  # handles, at once
            args = [table.decode(a) if type(a) is dict or type(a) is list else a
                    for a in args]
            kwargs = {str(k): table.decode(v) for k, v in raw_kwargs.items()}
        except codec.CodecError as e:
            return {"e": f"The tests' request could not be read: {e}"}
        if op == "signature":  # already data: parameters with their defaults encoded
            reply = {"s": table.signature(args[0]) if len(args) == 1 else None}
            if table.described:
                reply["c"], table.described = table.described, []
            return reply
        plain = codec.is_plain
        before = self.mutable_args(args, kwargs) if op == "call" and not (
            all(plain(a) for a in args[1:]) and not kwargs) else None
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.out, self.err
        reply: dict[str, Any]
        try:
            value = fn(*args, **kwargs)
        except BaseException as e:  # noqa: B902 - KeyboardInterrupt and SystemExit are answers too
            sys.stdout, sys.stderr = saved
            reply = self.raised(op, e)
        else:
            sys.stdout, sys.stderr = saved
            try:
                reply = {"v": table.encode(value, "the result is")}
            except codec.CodecError as e:
                reply = {"e": str(e)}
            if op == "global" and type(reply.get("v")) is dict and "i" in reply["v"]:
                table.pinned.add(reply["v"]["i"])
        out, err = self.out.take(), self.err.take()
        if out:
            reply["o"] = out
        if err:
            reply["r"] = err
        if before:
            self.changed_args(reply, args, kwargs, before)
        if table.described:
            reply["c"] = table.described
            table.described = []
        return reply

    def raised(self, op: Any, e: BaseException) -> dict[str, Any]:
        """The reply for an exception: its tag and, for the teacher, the traceback (not for
        the end of an iteration or a missing attribute, which tests ask for routinely)."""
        quiet = isinstance(e, StopIteration) or (op == "getattr" and isinstance(e, AttributeError))
        text = "" if quiet else _traceback_text(e)
        e.__traceback__ = None  # the frames of the call need not outlive it
        try:
            reply = {"x": self.table.exception_tag(e)}
        except BaseException as failed:  # noqa: B902 - a class the description cannot read
            reply = {"e": f"The notebook raised {_type_name(type(e))}, and it could not be "
                          f"described ({_type_name(type(failed))})."}
        if text:
            reply["t"] = text
        return reply

    def mutable_args(self, args: list[Any], kwargs: dict[str, Any]) -> dict[Any, Any]:
        """What the caller's mutable arguments were, to send back only those the call changed:
        copying an unchanged list back would replace the nested objects a test may hold."""
        before: dict[Any, Any] = {}
        try:
            for key, value in [*enumerate(args[1:]), *kwargs.items()]:
                if self.codec.is_mutable(value):
                    before[key] = self.table.encode(value, "")
        except self.codec.CodecError:
            return {}
        return before

    def changed_args(self, reply: dict[str, Any], args: list[Any], kwargs: dict[str, Any],
                     before: dict[Any, Any]) -> None:
        """Add the in-place changes of the caller's lists, dicts, arrays and frames."""
        changed: dict[Any, Any] = {}
        try:
            for key, value in [*enumerate(args[1:]), *kwargs.items()]:
                if key in before:
                    what = (f"argument {key + 1 if isinstance(key, int) else key} after the "
                            f"call is")
                    enc = self.table.encode(value, what)
                    if enc != before[key]:
                        changed[key] = enc
        except self.codec.CodecError as e:
            reply.clear()
            reply["e"] = str(e)
            return
        if any(isinstance(k, int) for k in changed):
            reply["b"] = [changed.get(i) for i in range(len(args) - 1)]
        if any(isinstance(k, str) for k in changed):
            reply["kb"] = {k: v for k, v in changed.items() if isinstance(k, str)}


def _worker(ctl: Any, data: socket.socket, gen: int, load: Callable[[], Any], codec: Any,
            wire: Any) -> None:
    """Load the notebook, tell the supervisor whether it loaded, then answer the tests."""
    loaded = load()
    ctl.send({"kind": "ready" if loaded.ok else "load", "message": loaded.message})
    ctl.sock.close()
    if loaded.ok:
        Worker(loaded.module, gen, codec).serve(wire.Channel(data))


class Supervisor:
    """Keeps one worker alive, hands the tests its socket, replaces it when asked. Never runs
    the notebook's code."""

    def __init__(self, link: Any, load: Callable[[], Any], codec: Any, wire: Any,
                 report: Optional[Callable[[bool, str], None]], private_fd: int) -> None:
        self.link = link
        self.private_fd = private_fd  # the report channel: never open in a worker
        self.load = load
        self.codec = codec
        self.wire = wire
        self.report = report  # called once, with the first worker's load result
        self.pid = 0
        self.gen = 0
        self.theirs: Optional[socket.socket] = None  # the tests' end of the worker's socket
        self.ready: dict[str, Any] = {}  # the current worker's hello answer

    def spawn(self) -> None:
        """Start a worker and wait until it has loaded the notebook (or failed to)."""
        self.gen += 1
        ctl_ours, ctl_theirs = socket.socketpair()
        data_tests, data_worker = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                ctl_ours.close()
                data_tests.close()
                self.link.sock.close()
                if self.theirs is not None:
                    self.theirs.close()
                try:
                    os.close(self.private_fd)
                except OSError:
                    pass
                _worker(self.wire.Channel(ctl_theirs), data_worker, self.gen, self.load,
                        self.codec, self.wire)
            finally:
                os._exit(0)
        ctl_theirs.close()
        data_worker.close()
        self.pid = pid
        if self.theirs is not None:
            self.theirs.close()
        self.theirs = data_tests
        try:
            self.ready = dict(self.wire.Channel(ctl_ours).recv(), gen=self.gen)
        except Exception:
            self.ready = {"kind": "load", "message": self._death("while loading", 0)}
        ctl_ours.close()
        if self.report is not None:
            self.report(self.ready.get("kind") == "ready", self.ready.get("message", ""))
            self.report = None

    def _death(self, when: str, grace: float) -> str:
        """Reap the worker (after `grace` seconds to exit on its own) and say how it ended."""
        if not self.pid:
            return "The notebook's process had already ended."
        status = 0
        end = time.monotonic() + grace
        try:
            while True:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() >= end:
                    os.kill(self.pid, signal.SIGKILL)
                    _, status = os.waitpid(self.pid, 0)
                    break
                time.sleep(0.005)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.pid = 0
        how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit status {os.WEXITSTATUS(status)}")
        return (f"The notebook stopped its Python process {when} ({how}). Remove calls such as "
                f"exit() or os._exit(), and anything that kills the process, from the notebook.")

    def answer(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The reply to one control request (without its id)."""
        op = msg.get("op")
        if op == "hello":
            return dict(self.ready)
        if op == "reap":  # the worker closed its socket during a request: it is ending
            during = str(msg.get("during") or "")[:100]
            died = self._death(f"during {during}" if during else "", CRASH_GRACE)
            return {"kind": "reaped", "died": died}
        if op == "reset":
            self._death("", 0)
            self.spawn()
            return dict(self.ready)
        return {"kind": "error", "message": f"unknown request {str(op)[:40]!r}"}

    def serve(self) -> None:
        """Answer the tests until they close the link."""
        while True:
            try:
                msg = self.link.recv()
            except Exception:
                return
            reply = self.answer(msg)
            reply["id"] = msg.get("id")
            ready = reply.get("kind") == "ready" and self.theirs is not None
            if ready:
                reply["fd"] = True
            self.link.send(reply, self.theirs.fileno() if ready and self.theirs else None)


def main(link_fd: int, load: Callable[[], Any], codec: Any, wire: Any,
         report: Callable[[bool, str], None], private_fd: int) -> None:
    """Serve the tests on `link_fd` until they are done. `report` receives the first load
    result; `private_fd` is closed in every worker."""
    link = wire.Channel(socket.socket(fileno=link_fd))
    sup = Supervisor(link, load, codec, wire, report, private_fd)
    sup.spawn()
    sup.serve()
