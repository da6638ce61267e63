"""The tests' side of process isolation: a `submission` module whose names live in the
student's notebook in the other sandbox (student.py has the protocol).

Hidden tests are written as for shared isolation (`from submission import is_prime`). A name
the tests take from `submission` is looked up in the notebook once it has loaded: data (what
codec.py carries) arrives as a value; a function as a local function with the student's
signature, name and docstring, which calls the student's function; a class as a mirror class;
anything else as a handle.

A handle stands for an object that stays in the student's sandbox. Its class is a mirror of
the object's class (same name, bases mirroring the student's classes), so `isinstance(r,
Robot)` works with the Robot imported from submission. Attribute reads, method calls,
operators, len, iter, next, in, indexing, with, str, repr, format and hash are forwarded;
what comes back is data or another handle. Two things are never forwarded, because they
would let the student's code decide a teacher's check: comparing a handle with a value the
tests made (`is_prime(7) == True`) and asking a handle for its truth (`assert is_prime(7)`)
fail the test with a SandboxError that says what to return instead. Comparisons between two
handles go to the student's code. A student exception arrives as an instance of a mirror
class whose bases follow the student's class down to the builtin exceptions, with its args,
its message, and the notebook's traceback as its __cause__ (for the teacher).

Handles live as long as the worker process that holds their objects: a call that runs out of
time or a crash replaces the worker, and a handle from before fails with a clear message.
Names imported from submission (functions, classes, objects) are looked up again instead.
Nothing here runs the student's code or unpickles: what arrives is data, handle ids and
class descriptions, and mirror classes only hold this module's forwarding methods.
"""

import builtins
import os
import signal
import socket
import sys
import threading
import time
import types
import weakref
from typing import Any, Callable, Optional

RESET_TIMEOUT = 120.0  # a fresh worker loads the notebook again; the wall clock bounds it
MIRRORS_MAX = 10000  # classes described by the notebook; a bound on a hostile worker
LABEL_MAX = 60
# Builtin exceptions that stop a program: they cross as RuntimeError and never stop pytest.
STOPPING = frozenset({"KeyboardInterrupt", "SystemExit", "GeneratorExit"})
_DATA_TYPES = (bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set,
               frozenset, type(None))


class SandboxError(Exception):
    """A value cannot cross between the sandboxes, a handle was used in a way that would let
    the student's code decide a check, or a handle outlived its process."""


class NotebookTraceback(Exception):
    """The __cause__ of an exception from the notebook: where it was raised, for the teacher."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class LoadFailed(Exception):
    """The notebook did not load in the student's sandbox; the message says why."""


# pytest prints these as "SandboxError: ...", without this module's private name.
SandboxError.__module__ = NotebookTraceback.__module__ = LoadFailed.__module__ = "builtins"


def _a(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


class _Ref:
    """Where a remote object is: worker generation and handle id, and how to find it again in
    a new worker (`name` in the notebook's module, or the class `key`), if at all."""

    __slots__ = ("gen", "id", "name", "key", "label", "what")

    def __init__(self, gen: int, id_: int, label: str, what: str, name: Optional[str] = None,
                 key: Optional[str] = None) -> None:
        self.gen, self.id, self.label, self.what = gen, id_, label[:LABEL_MAX], what
        self.name, self.key = name, key


class Link:
    """Control requests to the supervisor over the link, with SIGALRM held so the stream never
    stops mid-frame. Replies may carry the worker's socket."""

    def __init__(self, fd: int, wire: Any) -> None:
        self.chan = wire.Channel(socket.socket(fileno=fd), takes_fds=True)
        self.next_id = 0

    def request(self, message: dict[str, Any],
                timeout: Optional[float]) -> tuple[dict[str, Any], Optional[int]]:
        """Send `message`; its reply and the descriptor it carried, if any."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            self.next_id += 1
            message["id"] = self.next_id
            self.chan.send(message)
            while True:
                reply = self.chan.recv(timeout)
                fd = self.chan.take_fd() if reply.get("fd") is True else None
                if reply.get("id") == message["id"]:
                    return reply, fd
                if fd is not None:  # a reply to a request given up on
                    os.close(fd)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


class Session:
    """The tests' connection to the student's worker: requests, handles and mirror classes."""

    def __init__(self, fd: int, codec: Any, wire: Any, timeout: float, source: str) -> None:
        self.link = Link(fd, wire)
        self.codec = codec
        self.wire = wire
        self.timeout = timeout
        self.source = source  # submission.py in this sandbox, for inspect.getsource
        self.chan: Any = None  # the current worker's socket
        self.gen = 0
        self.started = False
        self.failed: Optional[str] = None  # why the notebook did not load
        self.stale: Optional[str] = None  # why the current worker must be replaced first
        self.ended: dict[int, str] = {}  # generation -> why that worker was replaced
        self.deadline: Optional[float] = None  # when the running test's time is up
        self.pending: list[int] = []  # handle ids of this generation the tests dropped
        self.objects: "weakref.WeakValueDictionary[tuple[int, int], Any]" = (
            weakref.WeakValueDictionary())
        self.mirrors: dict[str, type] = {}
        # The notebook's names that are not data: found again in each new worker.
        self.named: dict[str, tuple[_Ref, Any]] = {}
        self.stubs: "weakref.WeakKeyDictionary[Any, _Ref]" = weakref.WeakKeyDictionary()
        self.context = ("", "", "")  # label, what and op of the reply being read
        self.lock = threading.RLock()
        self.tags = {"h": self._t_handle, "fn": self._t_function, "exc": self._t_exception,
                     "cls": self._t_class, "type": self._t_type}

    # The worker ----------------------------------------------------------------------------

    def connect(self) -> None:
        """Make sure a loaded worker answers: the first one, or a fresh one when the last call
        ran out of time or the worker died. LoadFailed when the notebook does not load."""
        if self.failed is not None:
            raise LoadFailed(self.failed)
        if self.started and self.stale is None:
            return
        try:
            if not self.started:
                reply, fd = self.link.request({"op": "hello"}, None)
                self.started = True
            else:
                if self.chan is not None:
                    self.chan.close()
                    self.chan = None
                self.ended[self.gen] = self.stale or ""
                reply, fd = self.link.request({"op": "reset"}, RESET_TIMEOUT)
        except (OSError, TimeoutError, self.wire.LinkClosed, self.wire.LinkBroken):
            self.failed = "The student's sandbox ended before it answered."
            raise LoadFailed(self.failed) from None
        self.stale = None
        self.pending = []
        if reply.get("kind") != "ready" or fd is None or type(reply.get("gen")) is not int:
            if fd is not None:
                os.close(fd)
            self.failed = str(reply.get("message") or "the notebook did not load")
            raise LoadFailed(self.failed)
        self.gen = reply["gen"]
        self.chan = self.wire.Channel(socket.socket(fileno=fd))
        for ref, _ in list(self.named.values()):
            try:
                self.revive(ref)
            except SandboxError:  # gone from the notebook; a use of it will say so
                pass

    def _crashed(self, label: str) -> str:
        """The worker died during `label`: how, from the supervisor, which reaps it. The next
        request (or test) gets a fresh worker."""
        self.stale = "the notebook's process ended"
        if self.chan is not None:
            self.chan.close()
            self.chan = None
        try:
            reply, fd = self.link.request({"op": "reap", "during": label}, RESET_TIMEOUT)
        except (OSError, TimeoutError, self.wire.LinkClosed, self.wire.LinkBroken):
            self.failed = "The student's sandbox ended."
            return f"The student's sandbox ended during {label}."
        if fd is not None:
            os.close(fd)
        return str(reply.get("died") or f"The notebook's process ended during {label}.")

    def before_test(self) -> None:
        """Between tests: replace a worker left stale by the last test now, so the time a
        fresh worker takes to load is not counted against the next test."""
        if self.stale is not None and self.failed is None:
            try:
                self.connect()
            except LoadFailed:
                pass

    # Requests --------------------------------------------------------------------------------

    def op(self, op: str, args: tuple[Any, ...], kwargs: Optional[dict[str, Any]] = None,
           label: str = "", what: str = "") -> Any:
        """Run `op` on `args` in the worker and return the result (data, or a handle), or
        raise what the notebook raised. `label` names the request in messages ("is_prime()"),
        `what` starts messages about the result ("is_prime returned")."""
        __tracebackhide__ = True
        if self.chan is None or self.stale is not None:
            self.connect()
        codec = self.codec
        plain, encode, other = codec.is_plain, codec.encode, self.other
        try:
            enc = [a if plain(a) else other(a) if type(a) is _Ref else encode(
                a, f"argument {i} of {label} is" if op == "call" else
                f"a value given to {label} is", other) for i, a in enumerate(args)]
            msg: dict[str, Any] = {"o": op, "a": enc}
            if kwargs:
                msg["k"] = {k: encode(v, f"argument {k} of {label} is", other)
                            for k, v in kwargs.items()}
        except codec.CodecError as e:
            raise SandboxError(f"The test passed {label} something that cannot be sent "
                               f"between the sandboxes: {e}") from None
        if self.pending:
            msg["f"], self.pending = self.pending, []
        reply = self._exchange(msg, label)
        self.context = (label, what, op)
        if len(reply) == 1 and "v" in reply:  # the hot path: a plain value and nothing else
            return self.codec.decode(reply["v"], self.tags)
        return self._result(reply, args, kwargs, label)

    def _result(self, reply: dict[str, Any], args: tuple[Any, ...],
                kwargs: Optional[dict[str, Any]], label: str) -> Any:
        """Everything a reply may hold besides a plain value."""
        __tracebackhide__ = True
        decode, codec = self.decode, self.codec
        try:
            if type(reply.get("o")) is str:
                sys.stdout.write(reply["o"])
            if type(reply.get("r")) is str:
                sys.stderr.write(reply["r"])
            if "c" in reply:
                self.learn(reply["c"])
            after = reply.get("b")
            if type(after) is list:
                for original, changed in zip(args[1:], after):
                    if changed is not None:
                        codec.copy_back(original, decode(changed))
            after = reply.get("kb")
            if type(after) is dict and kwargs:
                for key, changed in after.items():
                    if key in kwargs:
                        codec.copy_back(kwargs[key], decode(changed))
            if "x" in reply:
                exc = decode(reply["x"])
                if not isinstance(exc, BaseException):
                    raise codec.CodecError("an exception is not one")
            elif "e" in reply:
                raise SandboxError(f"{label}: {str(reply['e'])[:2000]}")
            elif "s" in reply:
                return self.signature(reply["s"])
            else:
                return decode(reply.get("v"))
        except codec.CodecError as e:
            raise SandboxError(f"{label}: {e}") from None
        if type(reply.get("t")) is str:
            exc.__cause__ = NotebookTraceback(
                "The notebook's traceback, in the student's sandbox:\n" + reply["t"])
        raise exc

    def decode(self, data: Any) -> Any:
        return self.codec.decode(data, self.tags)

    def other(self, v: Any) -> Optional[dict[str, Any]]:
        """The codec's hook for what the tests pass: handles and classes of the notebook's go
        back as references, builtin types by name; anything else is refused (None)."""
        t = type(v)
        ref: Optional[_Ref] = None
        if t is _Ref:
            ref = v
        elif type(t) is RemoteClass:  # a handle, or an exception from the notebook
            ref = v._mb if isinstance(v, Handle) else vars(v).get("_mb")
        elif t is RemoteClass:
            ref = vars(v).get("_mb_class")
        elif t is types.FunctionType:
            ref = self.stubs.get(v)
        elif t is type and getattr(builtins, v.__name__, None) is v:
            return {"$t": "type", "n": v.__name__}
        elif t is slice:  # indexing a handle: d[1:3]
            parts = [v.start, v.stop, v.step]
            if all(p is None or self.codec.is_plain(p) or type(p) is _Ref for p in parts):
                return {"$t": "slice", "v": [self.other(p) if type(p) is _Ref else p
                                             for p in parts]}
        if ref is None:
            return None
        if ref.gen != self.gen:
            self.revive(ref)
        return {"$t": "r", "i": ref.id}

    def revive(self, ref: _Ref) -> None:
        """Find a handle's object again in the current worker (names of the notebook's module
        and classes only); SandboxError when it died with its worker."""
        __tracebackhide__ = True
        if self.chan is None or self.stale is not None:
            self.connect()
        if ref.gen == self.gen:
            return
        if ref.name is not None:
            tag = self._raw("global", ref.name, ref.label)
            if type(tag) is dict and type(tag.get("i")) is int:
                ref.gen, ref.id = self.gen, tag["i"]
                named = self.named.get(ref.name)
                if named is not None:  # met again in the new worker, it is the same here
                    self.objects[(ref.gen, ref.id)] = named[1]
                return
        elif ref.key is not None:
            self._raw("class", ref.key, ref.label)  # its description updates `ref`
            if ref.gen == self.gen:
                return
        why = self.ended.get(ref.gen, "the notebook's process ended")
        raise SandboxError(
            f"{ref.label} was an object in the notebook's process that was replaced when "
            f"{why}, and an object of the notebook's lives only as long as its process. Get it "
            f"again after that point (call the function that made it again).")

    def _raw(self, op: str, arg: str, label: str) -> Any:
        """A request whose result stays the undecoded tag (it names an object found again)."""
        try:
            reply = self._exchange({"o": op, "a": [arg]}, label)
        except (SandboxError, TimeoutError, RuntimeError):
            return None
        if "c" in reply:
            self.learn(reply["c"])
        return reply.get("v")

    def _exchange(self, msg: dict[str, Any], label: str) -> dict[str, Any]:
        """Send one request and read its reply, within what is left of the test's time.
        TimeoutError or RuntimeError (the worker died) say so in `label`'s words."""
        __tracebackhide__ = True
        chan = self.chan
        self.stale = "a test ran out of time"  # until the reply is read
        try:
            with self.lock:  # one request on the socket at a time, whatever thread asks
                chan.send(msg)
                left = self.timeout if self.deadline is None else min(
                    self.timeout, max(self.deadline - time.monotonic(), 0.01))
                reply = chan.recv(left)
        except TimeoutError:
            self.stale = "a call ran out of time"
            raise TimeoutError(f"{label} did not return within {self.timeout:g} s (the time "
                               f"limit of each test)") from None
        except ValueError as e:  # the request is over the frame limit; nothing was sent
            self.stale = None
            raise SandboxError(f"The test passed {label} too much data: it cannot be sent "
                               f"between the sandboxes ({e}).") from None
        except (OSError, self.wire.LinkClosed, self.wire.LinkBroken):
            raise RuntimeError(self._crashed(label)) from None
        self.stale = None
        return reply

    def release(self, ref: _Ref) -> None:
        """A handle died: the worker may forget its object (told with the next request)."""
        if ref.gen == self.gen and ref.name is None and ref.key is None:
            self.pending.append(ref.id)

    def take(self, ref_id: int) -> None:
        """A handle id arrived again: it is no longer to be forgotten."""
        if ref_id in self.pending:
            self.pending.remove(ref_id)

    # Names of the notebook --------------------------------------------------------------------

    def global_(self, name: str) -> Any:
        """The value of `name` in the notebook's module: data, or a function, mirror class or
        handle that finds it again by name in a new worker."""
        __tracebackhide__ = True
        value = self.op("global", (name,), None, name, f"{name} is")
        ref = None
        if isinstance(value, Handle):
            ref = value._mb
        elif type(value) is types.FunctionType:
            ref = self.stubs.get(value)
        if ref is not None:
            ref.name = name
            self.named[name] = (ref, value)
        return value

    # Decoding what the worker sent -------------------------------------------------------------

    def _t_handle(self, d: dict[str, Any], _: Any) -> Any:
        i, key = d.get("i"), d.get("c")
        if len(d) != 3 or type(i) is not int:
            raise self.codec.CodecError("The value from the other sandbox is malformed: a "
                                        "handle has no id.")
        known = self.objects.get((self.gen, i))
        if known is not None:
            return known
        cls = self.mirrors.get(key) if type(key) is str else None
        if cls is None or not issubclass(cls, Handle):
            raise self.codec.CodecError("The value from the other sandbox is malformed: a "
                                        "handle's class was not described.")
        label, what, op = self.context
        h = object.__new__(cls)
        # A method read from an object is named after it ("Robot.reset"), others by class.
        object.__setattr__(h, "_mb", _Ref(self.gen, i, label if op in ("getattr", "global")
                                          else cls.__name__, what))
        self.objects[(self.gen, i)] = h
        self.take(i)
        return h

    def _t_class(self, d: dict[str, Any], _: Any) -> Any:
        cls = self.mirrors.get(d.get("c")) if len(d) == 2 and type(d.get("c")) is str else None
        if cls is None:
            raise self.codec.CodecError("The value from the other sandbox is malformed: a "
                                        "class was not described.")
        return cls

    @staticmethod
    def _t_type(d: dict[str, Any], _: Any) -> Any:
        value = getattr(builtins, str(d.get("n")), None)
        if len(d) != 2 or not isinstance(value, type):
            raise _session.codec.CodecError("The value from the other sandbox is malformed: "
                                            "not a builtin type.")
        return value

    def _t_function(self, d: dict[str, Any], value: Callable[[Any], Any]) -> Any:
        i, name, qualname, doc = d.get("i"), d.get("n"), d.get("q"), d.get("d")
        if (type(i) is not int or type(name) is not str or type(qualname) is not str
                or (doc is not None and type(doc) is not str)):
            raise self.codec.CodecError("The value from the other sandbox is malformed: a "
                                        "function is not described.")
        known = self.objects.get((self.gen, i))
        if known is not None:
            return known
        ref = _Ref(self.gen, i, name, f"{name} returned")
        session = self

        def stub(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            return session.op("call", (ref, *args), kwargs, f"{ref.label}()",
                              f"{ref.label} returned")

        stub.__name__, stub.__qualname__, stub.__doc__ = name, qualname, doc
        stub.__module__ = "submission"
        sig = self.signature(d.get("s"))
        if sig is not None:
            stub.__signature__ = sig  # type: ignore[attr-defined]
            stub.__annotations__ = {
                p.name: p.annotation for p in sig.parameters.values()
                if p.annotation is not p.empty}
            if sig.return_annotation is not sig.empty:
                stub.__annotations__["return"] = sig.return_annotation
            line = d.get("l")
            if type(line) is int and line > 0:  # inspect.getsource() follows __wrapped__
                stub.__wrapped__ = _source_pointer(self.source, line, name)  # type: ignore
        self.stubs[stub] = ref
        self.objects[(self.gen, i)] = stub
        weakref.finalize(stub, self.release, ref)
        self.take(i)
        return stub

    def _t_exception(self, d: dict[str, Any], value: Callable[[Any], Any]) -> Any:
        i, key, message = d.get("i"), d.get("c"), d.get("m")
        args = value(d.get("a"))
        if type(key) is not str or type(message) is not str or type(args) is not list or (
                i is not None and type(i) is not int):
            raise self.codec.CodecError("The value from the other sandbox is malformed: an "
                                        "exception is not described.")
        if key.startswith("builtins:"):
            name = key[len("builtins:"):]
            cls = getattr(builtins, name, None)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                raise self.codec.CodecError("The value from the other sandbox is malformed: "
                                            "an unknown builtin exception.")
            if name in STOPPING or not issubclass(cls, Exception):
                return RuntimeError(f"{name}: {message}" if message else name)
            try:
                return cls(*args)
            except Exception:  # a builtin that wants other arguments than these
                exc = cls.__new__(cls)
                exc.args = tuple(args)
                return exc
        cls = self.mirrors.get(key)
        if cls is None or not issubclass(cls, RemoteException) or type(i) is not int:
            raise self.codec.CodecError("The value from the other sandbox is malformed: an "
                                        "exception's class was not described.")
        known = self.objects.get((self.gen, i))
        if known is not None:
            return known
        floor = next(k for k in cls.__mro__ if _is_builtin(k))
        try:
            exc = cls.__new__(cls, *args)
            floor.__init__(exc, *args)
        except Exception:  # the builtin base wants other arguments (UnicodeDecodeError)
            try:
                exc = cls.__new__(cls)
            except Exception:
                return RuntimeError(f"{cls.__name__}: {message}")
        exc.args = tuple(args)
        vars(exc).update(_mb=_Ref(self.gen, i, cls.__name__, f"{cls.__name__} is"),
                         _mb_message=message)
        self.objects[(self.gen, i)] = exc
        self.take(i)
        return exc

    def signature(self, desc: Any) -> Any:
        """An inspect.Signature from the worker's description, or None."""
        import inspect
        if type(desc) is not dict or type(desc.get("p")) is not list:
            return None

        def annotation(a: Any) -> Any:
            if type(a) is list and len(a) == 2 and a[0] == "b":
                found = getattr(builtins, str(a[1]), None)
                return found if isinstance(found, type) else str(a[1])
            if type(a) is list and len(a) == 2 and type(a[1]) is str:
                return a[1]
            return inspect.Parameter.empty

        try:
            params = []
            for item in desc["p"]:
                default = self.decode(item[3]) if len(item) > 3 else inspect.Parameter.empty
                params.append(inspect.Parameter(
                    str(item[0]), inspect.Parameter.POSITIONAL_ONLY.__class__(int(item[1])),
                    default=default, annotation=annotation(item[2])))
            return inspect.Signature(params, return_annotation=annotation(desc.get("r")))
        except Exception:  # a malformed description: no signature rather than a wrong one
            return None

    def learn(self, descriptions: Any) -> None:
        """Make (or point at the new worker) the mirror class of each class described."""
        if type(descriptions) is not list:
            raise self.codec.CodecError("The value from the other sandbox is malformed: class "
                                        "descriptions are not a list.")
        for desc in descriptions:
            self._learn_one(desc)

    def _learn_one(self, desc: Any) -> None:
        fields = {"k": str, "i": int, "n": str, "q": str, "m": str, "b": list, "s": list,
                  "u": bool, "e": bool}
        if type(desc) is not dict or any(type(desc.get(k)) is not t for k, t in fields.items()
                                         ) or (desc.get("d") is not None
                                               and type(desc.get("d")) is not str):
            raise self.codec.CodecError("The value from the other sandbox is malformed: a "
                                        "class description.")
        key = desc["k"]
        known = self.mirrors.get(key)
        if known is not None:
            ref = vars(known)["_mb_class"]
            ref.gen, ref.id = self.gen, desc["i"]
            return
        if len(self.mirrors) >= MIRRORS_MAX:
            raise self.codec.CodecError(f"The notebook described more than {MIRRORS_MAX} "
                                        f"classes.")
        name = desc["n"]
        ref = _Ref(self.gen, desc["i"], name, f"{name} is",
                   key=None if key.startswith("#") else key)
        ns: dict[str, Any] = {"__module__": desc["m"], "__qualname__": desc["q"],
                              "__doc__": desc.get("d"), "_mb_class": ref}
        bases: list[type] = []
        for base_key in desc["b"]:
            mirror = self.mirrors.get(base_key) if type(base_key) is str else None
            if mirror is not None:
                bases.append(mirror)
            elif desc["e"] and type(base_key) is str and base_key.startswith("builtins:"):
                bases.append(_builtin_exception(base_key[len("builtins:"):]))
        if desc["e"]:
            bases = [b for b in bases if issubclass(b, BaseException)]
            if not bases:
                bases = [Exception]
            if not any(issubclass(b, RemoteException) for b in bases):
                bases.append(RemoteException)
            ns.update(__str__=RemoteException.__str__, __repr__=RemoteException.__repr__)
            fallback = [next(k for b in bases for k in b.__mro__ if _is_builtin(k)),
                        RemoteException]
        else:
            bases = [b for b in bases if issubclass(b, Handle)] or [Handle]
            ns["__slots__"] = ()
            for special in desc["s"]:
                method = _SPECIALS.get(special) if type(special) is str else None
                if method is not None:
                    ns[special] = method
            if "__call__" in ns:
                ns["__signature__"] = property(_handle_signature)
            if desc["u"]:
                ns["__hash__"] = None
            fallback = [Handle]
        try:
            cls = RemoteClass(name, tuple(_unique(bases)), ns)
        except (TypeError, ValueError):  # bases Python cannot combine here: keep the family
            try:
                cls = RemoteClass(name, tuple(fallback), ns)
            except (TypeError, ValueError) as e:
                raise self.codec.CodecError(f"The class {name[:60]!r} of the notebook cannot be "
                                            f"mirrored ({e}).") from None
        self.mirrors[key] = cls


def _is_builtin(cls: type) -> bool:
    """Whether `cls` is one of Python's builtin classes (not a mirror claiming that module)."""
    return getattr(builtins, cls.__name__, None) is cls


def _unique(bases: list[type]) -> list[type]:
    """Bases without repeats and without one that another already derives from."""
    out: list[type] = []
    for b in bases:
        if b not in out and not any(issubclass(o, b) for o in out):
            out.append(b)
    return out


def _builtin_exception(name: str) -> type:
    """The builtin exception class `name` as a base of a mirror; those that stop a program
    (and any name that is not one) become RuntimeError."""
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls
    return RuntimeError


def _source_pointer(path: str, line: int, name: str) -> Any:
    """A function whose code says `path`, line `line`: inspect.getsource() of a stub finds the
    student's source there (it is never called)."""
    code = compile("def f():\n    pass\n", path, "exec").co_consts[0]
    return types.FunctionType(code.replace(co_firstlineno=line, co_name=name), {})


_session: Any = None  # the Session of this sandbox; handles and mirrors use it


class RemoteClass(type):
    """The metaclass of mirror classes: calling one builds an object in the student's sandbox,
    its attributes are the student's class's."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        ref = vars(cls).get("_mb_class")
        if ref is None:
            raise TypeError(f"{cls.__name__} is not a class of the notebook's; a class of the "
                            f"notebook's cannot be subclassed in the tests.")
        return _session.op("call", (ref, *args), kwargs, f"{cls.__name__}()",
                           f"{cls.__name__}() returned")

    def __getattr__(cls, name: str) -> Any:
        __tracebackhide__ = True
        ref = vars(cls).get("_mb_class")
        if ref is None or name.startswith("_mb") or _session is None or _session.failed:
            raise AttributeError(name)
        return _session.op("getattr", (ref, name), None, f"{cls.__name__}.{name}",
                           f"{cls.__name__}.{name} is")

    def __setattr__(cls, name: str, value: Any) -> None:
        ref = vars(cls).get("_mb_class")
        if ref is None or name.startswith("_mb") or (name.startswith("__")
                                                     and name.endswith("__")):
            type.__setattr__(cls, name, value)
        else:
            _session.op("setattr", (ref, name, value), None, f"{cls.__name__}.{name}", "")

    def __delattr__(cls, name: str) -> None:
        ref = vars(cls).get("_mb_class")
        if ref is None or name.startswith("_mb") or (name.startswith("__")
                                                     and name.endswith("__")):
            type.__delattr__(cls, name)
        else:
            _session.op("delattr", (ref, name), None, f"{cls.__name__}.{name}", "")

    @property
    def __signature__(cls) -> Any:
        ref = vars(cls).get("_mb_class")
        if ref is None:
            return None
        return _session.op("signature", (ref,), None, f"{cls.__name__}", "")


def _expected(other: Any) -> str:
    """What the tests compare with, as a type a function can return: the nearest plain type."""
    for k in type(other).__mro__:
        if k in _DATA_TYPES:
            return "None" if k is type(None) else k.__name__
        if k.__module__.split(".")[0] in ("numpy", "pandas") and k.__name__ in (
                "ndarray", "Series", "DataFrame"):
            return k.__name__
    return type(other).__name__


def _misuse(h: Any, need: str, why: str) -> SandboxError:
    """Why a handle cannot stand where the tests need a value of their own kind."""
    ref = h._mb
    article = _a(type(h).__name__)
    want = "a bool" if need == "a truth value" else "None" if need == "None" else _a(need)
    fix = "return" if ref.what.endswith("returned") else "make it"
    return SandboxError(
        f"{ref.what} {article} where the tests expect {need if need == 'a truth value' else want}"
        f": {fix} {want}. {article[0].upper()}{article[1:]} stays in the notebook's sandbox (it "
        f"cannot be sent between the sandboxes as a value), so the tests cannot {why}.")


def _compare(op: str, a: Any, b: Any) -> Any:
    __tracebackhide__ = True
    if _session.other(b) is None and not isinstance(b, _Ref):
        raise _misuse(a, _expected(b), f"compare it with their {_expected(b)}")
    return _session.op(op, (a._mb, b), None, f"{a._mb.label} {_OPERATORS[op]} ...",
                       f"{a._mb.label} {_OPERATORS[op]} ... gave")


_OPERATORS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class Handle(metaclass=RemoteClass):
    """An object that stays in the student's sandbox; the base of every non-exception mirror
    class. See the module docstring for what is forwarded and what is refused."""

    __slots__ = ("_mb", "__weakref__")

    def __getattr__(self, name: str) -> Any:
        __tracebackhide__ = True
        if name.startswith("_mb") or _session.failed:
            raise AttributeError(name)
        ref = self._mb
        return _session.op("getattr", (ref, name), None, f"{ref.label}.{name}",
                           f"{ref.label}.{name} is")

    def __setattr__(self, name: str, value: Any) -> None:
        __tracebackhide__ = True
        if name == "_mb":
            object.__setattr__(self, name, value)
        else:
            _session.op("setattr", (self._mb, name, value), None,
                        f"{self._mb.label}.{name}", "")

    def __delattr__(self, name: str) -> None:
        __tracebackhide__ = True
        _session.op("delattr", (self._mb, name), None, f"{self._mb.label}.{name}", "")

    def __dir__(self) -> Any:
        return _session.op("dir", (self._mb,), None, f"dir({self._mb.label})", "")

    def __eq__(self, other: Any) -> Any:
        __tracebackhide__ = True
        return _compare("eq", self, other)

    def __ne__(self, other: Any) -> Any:
        __tracebackhide__ = True
        return _compare("ne", self, other)

    def __lt__(self, other: Any) -> Any:
        __tracebackhide__ = True
        return _compare("lt", self, other)

    def __le__(self, other: Any) -> Any:
        __tracebackhide__ = True
        return _compare("le", self, other)

    def __gt__(self, other: Any) -> Any:
        __tracebackhide__ = True
        return _compare("gt", self, other)

    def __ge__(self, other: Any) -> Any:
        __tracebackhide__ = True
        return _compare("ge", self, other)

    def __hash__(self) -> int:
        __tracebackhide__ = True
        return _session.op("hash", (self._mb,), None, f"hash({self._mb.label})", "")

    def __bool__(self) -> bool:
        __tracebackhide__ = True
        raise _misuse(self, "a truth value", "ask whether it is true")

    def __str__(self) -> str:
        __tracebackhide__ = True
        return _session.op("str", (self._mb,), None, f"str({self._mb.label})", "")

    def __repr__(self) -> str:
        __tracebackhide__ = True
        ref = self._mb
        if ref.gen != _session.gen:
            return f"<{type(self).__name__} from a replaced notebook process>"
        return _session.op("repr", (ref,), None, f"repr({ref.label})", "")

    def __format__(self, spec: str) -> str:
        __tracebackhide__ = True
        return _session.op("format", (self._mb, spec), None, f"format({self._mb.label})", "")

    def __copy__(self) -> Any:
        return _session.op("copy", (self._mb,), None, f"copy({self._mb.label})",
                           f"copy({self._mb.label}) gave")

    def __deepcopy__(self, memo: Any) -> Any:
        return _session.op("deepcopy", (self._mb,), None, f"deepcopy({self._mb.label})",
                           f"deepcopy({self._mb.label}) gave")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"{type(self).__name__} is an object in the notebook's sandbox and "
                        f"cannot be pickled.")

    def __del__(self) -> None:
        try:
            _session.release(self._mb)
        except Exception:  # interpreter shutdown, or a handle never finished
            pass


class RemoteException:
    """Mixed into mirrors of the notebook's exception classes: the student's message, and
    attribute reads forwarded to the exception in the worker while it lives."""

    def __getattr__(self, name: str) -> Any:
        __tracebackhide__ = True
        ref = vars(self).get("_mb")
        if ref is None or name.startswith("_") or _session is None or (
                ref.gen != _session.gen):
            raise AttributeError(name)
        return _session.op("getattr", (ref, name), None, f"{ref.label}.{name}",
                           f"{ref.label}.{name} is")

    def __str__(self) -> str:
        message = vars(self).get("_mb_message")
        return message if type(message) is str else BaseException.__str__(self)  # type: ignore

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __del__(self) -> None:
        try:
            ref = vars(self).get("_mb")
            if ref is not None:
                _session.release(ref)
        except Exception:
            pass


def _handle_signature(self: Any) -> Any:
    return _session.op("signature", (self._mb,), None, f"{self._mb.label}", "")


def _unary(op: str, form: str) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        __tracebackhide__ = True
        label = form.format(self._mb.label)
        return _session.op(op, (self._mb,), None, label, f"{label} gave")
    return method


def _binary(op: str, symbol: str, reflected: bool) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        __tracebackhide__ = True
        label = f"{self._mb.label} {symbol} ..." if not reflected else (
            f"... {symbol} {self._mb.label}")
        return _session.op(op, (other, self._mb) if reflected else (self._mb, other), None,
                           label, f"{label} gave")
    return method


def _call(self: Any, *args: Any, **kwargs: Any) -> Any:
    __tracebackhide__ = True
    label = self._mb.label
    return _session.op("call", (self._mb, *args), kwargs, f"{label}()", f"{label}() returned")


def _getitem(self: Any, key: Any) -> Any:
    __tracebackhide__ = True
    label = f"{self._mb.label}[...]"
    return _session.op("getitem", (self._mb, key), None, label, f"{label} is")


def _setitem(self: Any, key: Any, value: Any) -> None:
    __tracebackhide__ = True
    _session.op("setitem", (self._mb, key, value), None, f"{self._mb.label}[...] =", "")


def _delitem(self: Any, key: Any) -> None:
    __tracebackhide__ = True
    _session.op("delitem", (self._mb, key), None, f"del {self._mb.label}[...]", "")


def _contains(self: Any, item: Any) -> Any:
    __tracebackhide__ = True
    return _session.op("contains", (self._mb, item), None, f"... in {self._mb.label}", "")


def _exit(self: Any, exc_type: Any, exc: Any, tb: Any) -> Any:
    __tracebackhide__ = True
    described: Any = None
    if exc is not None:  # the class of a test's own exception, never its text (the test's)
        described = exc if _session.other(exc) is not None else [
            next(k.__name__ for k in type(exc).__mro__ if _is_builtin(k)), ""]
    return _session.op("exit", (self._mb, described), None, f"{self._mb.label}.__exit__()", "")


def _round(self: Any, ndigits: Any = None) -> Any:
    __tracebackhide__ = True
    args = (self._mb,) if ndigits is None else (self._mb, ndigits)
    return _session.op("round", args, None, f"round({self._mb.label})",
                       f"round({self._mb.label}) gave")


def _pow(self: Any, other: Any, mod: Any = None) -> Any:
    __tracebackhide__ = True
    args = (self._mb, other) if mod is None else (self._mb, other, mod)
    return _session.op("pow", args, None, f"{self._mb.label} ** ...",
                       f"{self._mb.label} ** ... gave")


_SPECIALS: dict[str, Callable[..., Any]] = {
    "__call__": _call, "__getitem__": _getitem, "__setitem__": _setitem,
    "__delitem__": _delitem, "__contains__": _contains, "__exit__": _exit,
    "__round__": _round, "__pow__": _pow, "__rpow__": _binary("pow", "**", True),
    "__ipow__": _binary("ipow", "**=", False),
    "__divmod__": _binary("divmod", "divmod", False),
    "__rdivmod__": _binary("divmod", "divmod", True),
}
for _name, _form in (("len", "len({})"), ("length_hint", "length_hint({})"),
                     ("iter", "iter({})"), ("next", "next({})"), ("reversed", "reversed({})"),
                     ("enter", "{}.__enter__()"), ("int", "int({})"), ("float", "float({})"),
                     ("complex", "complex({})"), ("index", "index({})"),
                     ("trunc", "trunc({})"), ("floor", "floor({})"), ("ceil", "ceil({})"),
                     ("abs", "abs({})"), ("neg", "-{}"), ("pos", "+{}"), ("invert", "~{}"),
                     ("bytes", "bytes({})"), ("fspath", "fspath({})")):
    _SPECIALS[f"__{_name}__"] = _unary(_name, _form)
for _name, _symbol in (("add", "+"), ("sub", "-"), ("mul", "*"), ("matmul", "@"),
                       ("truediv", "/"), ("floordiv", "//"), ("mod", "%"), ("lshift", "<<"),
                       ("rshift", ">>"), ("and", "&"), ("xor", "^"), ("or", "|")):
    _SPECIALS[f"__{_name}__"] = _binary(_name, _symbol, False)
    _SPECIALS[f"__r{_name}__"] = _binary(_name, _symbol, True)
    _SPECIALS[f"__i{_name}__"] = _binary("i" + _name, _symbol + "=", False)


def make_module(fd: int, names: list[str], codec: Any, wire: Any, timeout: float,
                path: str) -> tuple[types.ModuleType, Session]:
    """The `submission` module, at once, and its Session. Names are looked up in the
    notebook when first used, which waits until the notebook has loaded: pytest starts and
    collects while the notebook loads in the other sandbox. `path` is the submission's text
    in this sandbox (for source checks; it is never imported or run here)."""
    global _session
    session = Session(fd, codec, wire, timeout, path)
    _session = session
    module = types.ModuleType("submission")
    module.__file__ = path
    module.__all__ = list(names)

    def __getattr__(name: str) -> Any:
        __tracebackhide__ = True
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module 'submission' has no attribute {name!r}")
        try:
            value = session.global_(name)
        except LoadFailed as e:
            raise ImportError(f"The notebook did not load: {e}") from None
        if isinstance(value, Handle) or type(value) in (types.FunctionType, RemoteClass):
            setattr(module, name, value)  # found again by name in a new worker
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(module)) | set(names))

    module.__getattr__ = __getattr__  # type: ignore[attr-defined]
    module.__dir__ = __dir__  # type: ignore[attr-defined]
    return module, session
