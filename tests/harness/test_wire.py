"""Frames between the two sandboxes (wire.py): whole frames whatever the reads cut, a frame
that waits across a timeout, descriptors handed over with a frame, and refusals."""

from __future__ import annotations

import os
import socket
import sys
import threading

import pytest

from conftest import HARNESS

sys.path.insert(0, str(HARNESS))
import wire  # noqa: E402  (the harness module)


@pytest.fixture
def pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_frames_of_every_size_arrive_whole(pair) -> None:
    a, b = pair
    sender, receiver = wire.Channel(a), wire.Channel(b)
    messages = [{"v": 1}, {"v": "x" * 70_000}, {"v": "é" * (wire.READ_MAX + 10)}, {"v": []}]

    def send_all() -> None:
        for m in messages:
            sender.send(m)

    thread = threading.Thread(target=send_all)
    thread.start()
    assert [receiver.recv(10) for _ in messages] == messages
    thread.join()


def test_two_frames_in_one_write_and_a_frame_cut_in_two(pair) -> None:
    a, b = pair
    receiver = wire.Channel(b)
    a.sendall(wire.pack({"n": 1}) + wire.pack({"n": 2}))
    assert receiver.recv(1) == {"n": 1} and receiver.has_frame()
    assert receiver.recv(1) == {"n": 2} and not receiver.has_frame()
    frame = wire.pack({"n": 3})
    a.sendall(frame[:5])
    with pytest.raises(TimeoutError):
        receiver.recv(0.05)  # half a frame: the channel keeps its place
    a.sendall(frame[5:])
    assert receiver.recv(1) == {"n": 3}


def test_a_descriptor_travels_with_its_frame(pair, tmp_path) -> None:
    a, b = pair
    sender, receiver = wire.Channel(a), wire.Channel(b, takes_fds=True)
    path = tmp_path / "f"
    path.write_text("hello")
    fd = os.open(path, os.O_RDONLY)
    sender.send({"fd": True}, fd)
    os.close(fd)
    assert receiver.recv(1) == {"fd": True}
    got = receiver.take_fd()
    assert os.read(got, 5) == b"hello"
    os.close(got)
    sender.send({"fd": False})
    assert receiver.recv(1) == {"fd": False}
    with pytest.raises(wire.LinkBroken, match="carried none"):
        receiver.take_fd()


def test_the_end_of_the_stream_and_garbage_are_told_apart(pair) -> None:
    a, b = pair
    receiver = wire.Channel(b)
    a.sendall(len(b"not json").to_bytes(4, "big") + b"not json")
    with pytest.raises(wire.LinkBroken, match="not JSON"):
        receiver.recv(1)
    a.sendall(len(b"[1]").to_bytes(4, "big") + b"[1]")
    with pytest.raises(wire.LinkBroken, match="not a JSON object"):
        receiver.recv(1)
    a.sendall((wire.FRAME_MAX + 1).to_bytes(4, "big"))
    with pytest.raises(wire.LinkBroken, match="over the limit"):
        receiver.recv(1)
    a.close()
    with pytest.raises(wire.LinkClosed):
        wire.Channel(b).recv(1)


def test_a_frame_over_the_limit_is_refused_before_anything_is_sent(monkeypatch) -> None:
    monkeypatch.setattr(wire, "FRAME_MAX", 100)
    with pytest.raises(ValueError, match="the limit is"):
        wire.pack({"v": "x" * 200})
    with pytest.raises(ValueError, match="Out of range float"):
        wire.pack({"v": float("nan")})
