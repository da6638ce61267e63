"""The student's side of process isolation: `run.py student --names a,b`.

This sandbox holds the notebook and the exercise's data files, and nothing of the teacher's: no
hidden test, no pytest. A supervisor, which never runs student code, forks a worker that loads
the notebook and answers calls from the tests' sandbox over the link socket:

    tests -> {"id", "op": "hello"}                      <- {"id", "kind": "ready"} or "load"
    tests -> {"id", "op": "call", "name", "args", "kwargs"}
          <- {"id", "kind": "value", "value", "stdout", "stderr", "args_after", "kwargs_after"}
          <- {"id", "kind": "raised", "type", "message", ...}    the function raised
          <- {"id", "kind": "codec", "message", ...}            a value could not be sent
          <- {"id", "kind": "crashed", "message"}               the worker process died
          <- {"id", "kind": "load", "message"}                  the notebook never loaded
    tests -> {"id", "op": "reset"}                      <- {"id", "kind": "ready"} or "load"

A reset (after a call ran out of time) and a crash both replace the worker with a fresh one that
loads the notebook again. Only the first load is reported to markbook.
"""

import io
import os
import select
import signal
import socket
import sys
from types import ModuleType
from typing import Any, Callable, Optional

OUTPUT_MAX = 64 * 1024  # printed text kept per call
MESSAGE_MAX = 2000


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

    def text(self) -> str:
        return "".join(self.parts)


def _safe_str(e: BaseException) -> str:
    """str(e) capped; a notebook's exception may define a __str__ that fails."""
    try:
        text = str(e)
    except BaseException:  # noqa: B902 - whatever the notebook's __str__ raises
        text = f"(the {type(e).__name__} could not be shown)"
    return text[:MESSAGE_MAX]


def _call(module: ModuleType, names: set[str], codec: Any, msg: dict[str, Any]) -> dict[str, Any]:
    """Run one call in the worker and build its reply."""
    name = msg.get("name")
    if not isinstance(name, str) or name not in names or not hasattr(module, name):
        return {"kind": "codec", "message": f"{name!r} is not one of the exercise's functions "
                f"({', '.join(sorted(names))})."}
    raw_args, raw_kwargs = msg.get("args"), msg.get("kwargs")
    try:
        if not isinstance(raw_args, list) or not isinstance(raw_kwargs, dict):
            raise codec.CodecError("the call's arguments are malformed")
        args = [codec.decode(a) for a in raw_args]
        kwargs = {str(k): codec.decode(v) for k, v in raw_kwargs.items()}
    except codec.CodecError as e:
        return {"kind": "codec", "message": f"the tests' arguments to {name} could not be "
                f"read: {e}"}
    # What the mutable arguments were, to send back only those the call changed: copying an
    # unchanged list back would replace the nested objects a test may still hold.
    try:
        before = {i: codec.encode(a, "") for i, a in enumerate(args) if codec.is_mutable(a)}
        before.update({k: codec.encode(v, "") for k, v in kwargs.items() if codec.is_mutable(v)})
    except codec.CodecError:
        before = {}
    out, err = _Capped(), _Capped()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    reply: dict[str, Any]
    try:
        value = getattr(module, name)(*args, **kwargs)
        reply = {"kind": "value", "value": None}
        try:
            reply["value"] = codec.encode(value, f"{name} returned")
        except codec.CodecError as e:
            reply = {"kind": "codec", "message": str(e)}
    except BaseException as e:  # noqa: B902 - KeyboardInterrupt and SystemExit are answers too
        reply = {"kind": "raised", "type": type(e).__name__, "message": _safe_str(e)}
    finally:
        sys.stdout, sys.stderr = saved
    reply["stdout"], reply["stderr"] = out.text(), err.text()
    # In-place changes to the caller's lists, dicts, arrays and frames go back to the tests.
    try:
        changed: dict[Any, Any] = {}
        for key, value in [*enumerate(args), *kwargs.items()]:
            if key in before:
                what = f"argument {key + 1 if isinstance(key, int) else key} of {name} after the call is"
                enc = codec.encode(value, what)
                if enc != before[key]:
                    changed[key] = enc
        reply["args_after"] = [changed.get(i) for i in range(len(args))]
        reply["kwargs_after"] = {k: v for k, v in changed.items() if isinstance(k, str)}
    except codec.CodecError as e:
        reply = {"kind": "codec", "message": str(e), "stdout": reply["stdout"],
                 "stderr": reply["stderr"]}
    return reply


def _worker(chan: Any, names: set[str], load: Callable[[], Any], codec: Any) -> None:
    """Load the notebook, say whether it loaded, then answer calls until the link closes."""
    loaded = load()
    chan.send({"kind": "ready"} if loaded.ok else {"kind": "load", "message": loaded.message})
    if not loaded.ok:
        return
    while True:
        try:
            msg = chan.recv()
        except Exception:  # the supervisor closed the channel or sent garbage: we are done
            return
        reply = _call(loaded.module, names, codec, msg)
        reply["id"] = msg.get("id")
        try:
            chan.send(reply)
        except ValueError as e:  # over the frame limit
            chan.send({"id": msg.get("id"), "kind": "codec", "message": f"{msg.get('name')} "
                       f"returned too much data to send to the tests ({e})."})


class Supervisor:
    """Keeps one worker alive and relays frames between it and the tests' sandbox."""

    def __init__(self, link: Any, names: set[str], load: Callable[[], Any], codec: Any,
                 wire: Any, report: Callable[[bool, str], None], private_fd: int) -> None:
        self.link = link
        self.private_fd = private_fd  # the report channel: never open in a worker
        self.names = names
        self.load = load
        self.codec = codec
        self.wire = wire
        self.report = report  # called once, with the first worker's load result
        self.pid = 0
        self.chan: Any = None
        self.ready: Optional[dict[str, Any]] = None  # the current worker's hello answer

    def spawn(self) -> None:
        """Start a worker and wait until it has loaded the notebook (or failed to)."""
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                self.link.sock.close()
                try:
                    os.close(self.private_fd)
                except OSError:
                    pass
                _worker(self.wire.Channel(theirs), self.names, self.load, self.codec)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.chan = pid, self.wire.Channel(ours)
        try:
            self.ready = self.chan.recv()
        except Exception:
            self.ready = {"kind": "load", "message": self._death("while loading")}
        if self.report is not None:
            self.report(self.ready.get("kind") == "ready", self.ready.get("message", ""))
            self.report = None

    def _death(self, when: str) -> str:
        """Reap the worker and say how it ended."""
        status = 0
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit status {os.WEXITSTATUS(status)}")
        return (f"The notebook stopped its Python process {when} ({how}). Remove calls such as "
                f"exit() or os._exit(), and anything that kills the process, from the notebook.")

    def restart(self) -> None:
        """Replace the worker with a fresh one."""
        if self.chan is not None:
            self.chan.sock.close()
        self._death("")
        self.spawn()

    def relay(self, msg: dict[str, Any]) -> Optional[dict[str, Any]]:
        """Pass a call to the worker and return its reply, or None when a reset from the tests
        came first (the call ran out of time there): then the reset is handled here."""
        if self.ready is None or self.ready.get("kind") != "ready":
            return {"kind": "load", "message": (self.ready or {}).get("message", "")}
        try:
            self.chan.send(msg)
        except OSError:
            self.restart()
            return {"kind": "crashed", "message": "The notebook's process had ended."}
        while True:
            if self.chan.has_frame():
                ready = [self.chan.sock]
            elif self.link.has_frame():
                ready = [self.link.sock]
            else:
                ready, _, _ = select.select([self.chan.sock, self.link.sock], [], [])
            if self.chan.sock in ready:
                try:
                    return self.chan.recv()
                except Exception:
                    name = msg.get("name")
                    message = self._death(f"during {name}()")
                    self.spawn()
                    return {"kind": "crashed", "message": message}
            if self.link.sock in ready:
                return None

    def serve(self) -> None:
        """Answer the tests until they close the link."""
        while True:
            try:
                msg = self.link.recv()
            except Exception:
                return
            op = msg.get("op")
            if op == "reset":
                self.restart()
                reply: Optional[dict[str, Any]] = dict(self.ready or {})
            elif op == "hello":
                reply = dict(self.ready or {})
            elif op == "call":
                reply = self.relay(msg)
                if reply is None:  # a reset arrived while the worker was busy
                    continue
            else:
                reply = {"kind": "codec", "message": f"unknown request {op!r}"}
            reply["id"] = msg.get("id")
            self.link.send(reply)


def main(link_fd: int, names: set[str], load: Callable[[], Any], codec: Any, wire: Any,
         report: Callable[[bool, str], None], private_fd: int) -> None:
    """Serve the tests on `link_fd` until they are done. `report` receives the first load
    result; `private_fd` is closed in every worker."""
    link = wire.Channel(socket.socket(fileno=link_fd))
    sup = Supervisor(link, names, load, codec, wire, report, private_fd)
    sup.spawn()
    sup.serve()
