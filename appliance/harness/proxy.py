"""The tests' side of process isolation: a `submission` module whose functions call the
student's notebook in the other sandbox (student.py has the protocol).

Hidden tests are written as for shared isolation (`from submission import is_prime`). A call
sends its arguments as data, waits at most the per-test time limit, prints what the notebook
printed (so capsys sees it), copies in-place changes back into the caller's arguments and
returns the value as data, or raises the builtin exception of the same name.
"""

import builtins
import signal
import socket
import sys
import types
from typing import Any, Callable

RESET_TIMEOUT = 120.0  # a fresh worker loads the notebook again; the wall clock bounds it


class Link:
    """Requests and replies over the link socket. SIGALRM (pytest-timeout) is held back while a
    request is on the wire, so the stream never stops mid-frame; a call that runs out of time
    leaves the link dirty and the next request first resets the student's worker."""

    def __init__(self, fd: int, wire: Any) -> None:
        self.chan = wire.Channel(socket.socket(fileno=fd))
        self.next_id = 0
        self.dirty = False

    def _exchange(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        self.next_id += 1
        message["id"] = self.next_id
        self.dirty = True
        self.chan.send(message)
        while True:
            reply = self.chan.recv(timeout)
            if reply.get("id") == message["id"]:  # replies to abandoned calls are dropped
                self.dirty = False
                return reply

    def request(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Send `message` and return its reply; TimeoutError after `timeout` seconds."""
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            if self.dirty:
                self._exchange({"op": "reset"}, RESET_TIMEOUT)
            return self._exchange(message, timeout)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _rebuild(kind: str, message: str) -> BaseException:
    """The exception a call's failure raises in the test: a builtin of the same name when
    there is one (so `pytest.raises(ValueError)` works), otherwise RuntimeError. Exceptions
    that stop a program (KeyboardInterrupt, SystemExit) never cross: they must not stop pytest."""
    cls = getattr(builtins, kind, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:  # e.g. UnicodeDecodeError needs five arguments
            pass
    return RuntimeError(f"{kind}: {message}" if message else kind)


def _stub(link: Link, name: str, codec: Any, timeout: float) -> Callable[..., Any]:
    """A function that calls `name` in the student's sandbox."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            enc_args = [codec.encode(a, f"argument {i + 1} of {name} is")
                        for i, a in enumerate(args)]
            enc_kwargs = {k: codec.encode(v, f"argument {k} of {name} is")
                          for k, v in kwargs.items()}
        except codec.CodecError as e:
            raise TypeError(f"the test passed {name} something that cannot be sent: {e}") from None
        try:
            reply = link.request({"op": "call", "name": name, "args": enc_args,
                                  "kwargs": enc_kwargs}, timeout)
        except TimeoutError:
            raise TimeoutError(f"{name}() did not return within {timeout:g} s (the time limit "
                               f"of each test)") from None
        sys.stdout.write(reply.get("stdout") or "")
        sys.stderr.write(reply.get("stderr") or "")
        kind = reply.get("kind")
        if kind in ("value", "raised"):
            for original, after in zip(args, reply.get("args_after") or []):
                if after is not None:
                    codec.copy_back(original, codec.decode(after))
            for key, after in (reply.get("kwargs_after") or {}).items():
                if key in kwargs:
                    codec.copy_back(kwargs[key], codec.decode(after))
        if kind == "value":
            return codec.decode(reply.get("value"))
        if kind == "raised":
            raise _rebuild(str(reply.get("type")), str(reply.get("message", "")))
        if kind == "codec":
            raise TypeError(str(reply.get("message")))
        raise RuntimeError(str(reply.get("message") or f"{name}() could not be called"))

    call.__name__ = call.__qualname__ = name
    return call


class LoadFailed(Exception):
    """The notebook did not load in the student's sandbox; the message says why."""


def make_module(fd: int, names: list[str], codec: Any, wire: Any,
                timeout: float) -> tuple[types.ModuleType, Callable[[], None]]:
    """The `submission` module of stubs, at once, and a function that waits until the
    student's notebook has loaded (LoadFailed when it did not). pytest starts and collects
    the tests while the notebook loads in the other sandbox, and waits only before the first
    test runs: a notebook that imports pandas and tests that import it pay for it once in
    wall time, not twice. A stub called before then waits for the notebook like the test would."""
    link = Link(fd, wire)
    module = types.ModuleType("submission")
    module.__file__ = "submission.py"
    for name in names:
        setattr(module, name, _stub(link, name, codec, timeout))
    module.__all__ = list(names)

    def wait_loaded() -> None:
        hello = link.request({"op": "hello"}, None)
        if hello.get("kind") != "ready":
            raise LoadFailed(str(hello.get("message") or "the notebook did not load"))

    return module, wait_loaded
