"""Frames between the tests' sandbox and the student's sandbox (process isolation).

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON holding one object.
Values inside are already encoded by codec.py, so a frame is data only: nothing on either side
ever turns a frame into code.
"""

import json
import socket
import time
from typing import Any, Optional

FRAME_MAX = 32 * 1024 * 1024


class LinkClosed(Exception):
    """The other side closed the link."""


class LinkBroken(Exception):
    """The other side sent something that is not a frame."""


def pack(message: dict[str, Any]) -> bytes:
    """One frame holding `message`; raises ValueError when it is over FRAME_MAX."""
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(data) > FRAME_MAX:
        raise ValueError(f"the message is {len(data) >> 20} MiB; the limit is "
                         f"{FRAME_MAX >> 20} MiB")
    return len(data).to_bytes(4, "big") + data


class Channel:
    """A socket carrying frames, with a buffer that keeps a partly read frame across a
    timeout, so the stream never loses its place."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def send(self, message: dict[str, Any]) -> None:
        """Send one frame (blocking)."""
        self.sock.settimeout(None)
        self.sock.sendall(pack(message))

    def _frame(self) -> Optional[dict[str, Any]]:
        """The next whole frame in the buffer, or None."""
        if len(self.buf) < 4:
            return None
        size = int.from_bytes(self.buf[:4], "big")
        if size > FRAME_MAX:
            raise LinkBroken(f"a frame of {size} bytes is over the limit")
        if len(self.buf) < 4 + size:
            return None
        data = bytes(self.buf[4:4 + size])
        del self.buf[:4 + size]
        try:
            message = json.loads(data)
        except ValueError as e:
            raise LinkBroken(f"a frame is not JSON: {e}") from None
        if not isinstance(message, dict):
            raise LinkBroken("a frame is not a JSON object")
        return message

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
                if left <= 0:
                    raise TimeoutError
                self.sock.settimeout(left)
            else:
                self.sock.settimeout(None)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError from None
            if not chunk:
                raise LinkClosed
            self.buf += chunk

    def has_frame(self) -> bool:
        """Whether a whole frame is already buffered (select() would not show it)."""
        return len(self.buf) >= 4 and len(self.buf) >= 4 + int.from_bytes(self.buf[:4], "big")
