"""Frames between the tests' sandbox and the student's sandbox (process isolation).

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON holding one object.
Values inside are already encoded by codec.py, so a frame is data only: nothing on either side
ever turns a frame into code. A frame may carry one file descriptor (SCM_RIGHTS): that is how
the student's supervisor hands the tests a socket to its current worker.

Sockets stay in blocking mode and a wait with a time limit is a poll() before the read: no
ioctl to switch modes at every call, which is the hot path of a test calling the student's
function thousands of times.
"""

import json
import os
import select
import signal
import socket
import time
from typing import Any, Optional

FRAME_MAX = 32 * 1024 * 1024
# A frame up to this size goes out in one send(): on a Unix stream socket with room in its
# buffer that is all or nothing, so a signal cannot cut it. Larger frames hold SIGALRM.
SEND_ATOMIC = 64 * 1024
FDS_MAX = 4  # descriptors taken from one read; more is a broken link
READ_MAX = 256 * 1024  # bytes taken from the socket at once


class LinkClosed(Exception):
    """The other side closed the link."""


class LinkBroken(Exception):
    """The other side sent something that is not a frame."""


# One encoder and decoder for every frame: json.dumps() with options builds an encoder per call.
_to_json = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
_from_json = json.JSONDecoder().decode


def pack(message: dict[str, Any]) -> bytes:
    """One frame holding `message`; raises ValueError when it is over FRAME_MAX."""
    data = _to_json(message).encode("utf-8")
    if len(data) > FRAME_MAX:
        raise ValueError(f"the message is {len(data) >> 20} MiB; the limit is "
                         f"{FRAME_MAX >> 20} MiB")
    return len(data).to_bytes(4, "big") + data


def _parse(data: Any) -> dict[str, Any]:
    """The object in a frame's bytes; LinkBroken when they are not a JSON object."""
    try:
        message = _from_json(str(data, "utf-8"))
    except ValueError as e:  # also UnicodeDecodeError
        raise LinkBroken(f"a frame is not JSON: {e}") from None
    if type(message) is not dict:
        raise LinkBroken("a frame is not a JSON object")
    return message


class Channel:
    """A socket carrying frames, with a buffer that keeps a partly read frame across a
    timeout, so the stream never loses its place. `takes_fds`: descriptors that arrive are
    kept in `fds` (in order) for take_fd(); without it the kernel would close them unseen."""

    def __init__(self, sock: socket.socket, takes_fds: bool = False) -> None:
        self.sock = sock
        sock.settimeout(None)
        self.buf = bytearray()
        self.takes_fds = takes_fds
        self.fds: list[int] = []
        self.poll = select.poll()
        self.poll.register(sock.fileno(), select.POLLIN)
        self.chunk = bytearray(READ_MAX)
        self.view = memoryview(self.chunk)

    def send(self, message: dict[str, Any], fd: Optional[int] = None) -> None:
        """Send one frame (blocking), with `fd` attached when given; ValueError over
        FRAME_MAX. A frame over SEND_ATOMIC is sent with SIGALRM held, so pytest-timeout
        cannot stop it half-way."""
        data = pack(message)
        if fd is not None:
            sent = socket.send_fds(self.sock, [data], [fd])
            self.sock.sendall(data[sent:])
        elif len(data) <= SEND_ATOMIC:
            self.sock.sendall(data)
        else:
            held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            try:
                self.sock.sendall(data)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _frame(self) -> Optional[dict[str, Any]]:
        """The next whole frame in the buffer, or None."""
        buf = self.buf
        if len(buf) < 4:
            return None
        size = int.from_bytes(buf[:4], "big")
        if size > FRAME_MAX:
            raise LinkBroken(f"a frame of {size} bytes is over the limit")
        if len(buf) < 4 + size:
            return None
        if len(buf) == 4 + size:  # the usual case: one whole frame, taken without a copy
            data, self.buf = buf, bytearray()
            return _parse(memoryview(data)[4:])
        data = bytes(buf[4:4 + size])
        del buf[:4 + size]
        return _parse(data)

    def _read(self) -> Any:
        """One read from the socket (blocking), taking any descriptors along. Reads go into
        one buffer kept for the channel's life: a fresh 1 MiB bytes object per read costs
        three system calls of memory mapping on each side of a call."""
        if not self.takes_fds:
            n = self.sock.recv_into(self.chunk)
            return self.view[:n]
        data, fds, flags, _ = socket.recv_fds(self.sock, READ_MAX, FDS_MAX)
        self.fds.extend(fds)
        if flags & socket.MSG_CTRUNC:
            raise LinkBroken("a frame carried more descriptors than allowed")
        return data

    def recv(self, timeout: Optional[float] = None) -> dict[str, Any]:
        """The next frame; TimeoutError after `timeout` seconds (None: wait), LinkClosed at
        the end of the stream."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self._frame()
            if message is not None:
                return message
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not self.poll.poll(max(int(left * 1000) + 1, 1)):
                    raise TimeoutError
            chunk = self._read()
            if not chunk:
                raise LinkClosed
            if not self.buf and len(chunk) >= 4 and len(chunk) == 4 + int.from_bytes(
                    chunk[:4], "big"):  # the usual case: one whole frame in one read
                return _parse(chunk[4:])
            self.buf += chunk

    def has_frame(self) -> bool:
        """Whether a whole frame is already buffered (select() would not show it)."""
        return len(self.buf) >= 4 and len(self.buf) >= 4 + int.from_bytes(self.buf[:4], "big")

    def take_fd(self) -> int:
        """The first descriptor received and not yet taken; LinkBroken when there is none."""
        if not self.fds:
            raise LinkBroken("a frame promised a descriptor and carried none")
        return self.fds.pop(0)

    def close(self) -> None:
        """Close the socket and every descriptor received and not taken."""
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()
        self.sock.close()
