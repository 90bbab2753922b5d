"""Frames between the server and a worker, read by the worker's ``wire.Reader``."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from deepaas_lite.engine import wire


class Counted:
    """A socket whose reads are counted."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reads = 0

    def recv(self, size: int) -> bytes:
        self.reads += 1
        return self.sock.recv(size)

    def recv_into(self, view: memoryview, size: int) -> int:
        self.reads += 1
        return self.sock.recv_into(view, size)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, Counted]]:
    ours, theirs = socket.socketpair()
    theirs.settimeout(30)  # a test that would hang fails instead
    with ours, theirs:
        yield ours, Counted(theirs)


def test_frames_written_together_are_read_with_one_call(
    pair: tuple[socket.socket, Counted],
) -> None:
    ours, theirs = pair
    ours.sendall(b"".join(wire.dumps(("predict", {"n": n})) for n in range(3)))
    reader = wire.Reader(theirs)  # type: ignore[arg-type]
    assert [reader.recv() for _ in range(3)] == [("predict", {"n": n}) for n in range(3)]
    assert theirs.reads == 1


def test_a_frame_larger_than_the_buffer_comes_whole(pair: tuple[socket.socket, Counted]) -> None:
    ours, theirs = pair
    big: dict[str, Any] = {"x": bytes(range(256)) * 40_000}  # 10 MB, over many reads
    frames = wire.dumps(("small", 1)) + wire.dumps(big) + wire.dumps(("small", 2))
    writer = threading.Thread(target=ours.sendall, args=(frames,))
    writer.start()
    reader = wire.Reader(theirs)  # type: ignore[arg-type]
    assert reader.recv() == ("small", 1)
    assert reader.recv() == big
    assert reader.recv() == ("small", 2)
    writer.join()


@pytest.mark.parametrize("cut", [0, 3, wire.HEADER + 2])
def test_the_other_end_closing_is_eof(pair: tuple[socket.socket, Counted], cut: int) -> None:
    ours, theirs = pair
    ours.sendall(wire.dumps("whole") + wire.dumps("cut short")[:cut])
    ours.shutdown(socket.SHUT_WR)
    reader = wire.Reader(theirs)  # type: ignore[arg-type]
    assert reader.recv() == "whole"
    with pytest.raises(EOFError):
        reader.recv()


def test_a_large_frame_cut_short_is_eof(pair: tuple[socket.socket, Counted]) -> None:
    ours, theirs = pair
    frame = wire.dumps(b"\1" * 1_000_000)

    def write_half() -> None:
        ours.sendall(frame[:500_000])
        ours.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=write_half)
    writer.start()
    with pytest.raises(EOFError):
        wire.Reader(theirs).recv()  # type: ignore[arg-type]
    writer.join()
