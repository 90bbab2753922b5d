"""The server's end of a predict worker's socket, on a real socket pair, no worker."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from deepaas_lite.engine import wire
from deepaas_lite.engine.processes.predictor import _Channel, _Died, _NotRun

GUARD = 30.0  # seconds before a test that would hang fails instead


class Ends:
    def __init__(self, channel: _Channel, worker: socket.socket) -> None:
        self.channel = channel
        self.worker = worker  # the worker's end, blocking
        self.writes: list[bytes] = []
        transport = channel.transport
        assert transport is not None
        write = transport.write

        def counted(data: Any) -> None:
            self.writes.append(bytes(data))
            write(data)

        transport.write = counted  # type: ignore[method-assign]

    async def received(self) -> Any:
        """The next message the worker's end reads."""
        return await asyncio.wait_for(asyncio.to_thread(wire.recv, self.worker), GUARD)


@pytest.fixture
async def ends() -> AsyncIterator[Ends]:
    ours, theirs = socket.socketpair()
    _, channel = await asyncio.get_running_loop().create_connection(_Channel, sock=ours)
    with theirs:
        yield Ends(channel, theirs)
        channel.transport.close()  # type: ignore[union-attr]


async def test_the_calls_of_one_turn_of_the_loop_go_in_one_write(ends: Ends) -> None:
    answers = [ends.channel.send(wire.dumps(("predict", {"n": n}))) for n in range(3)]
    assert ends.writes == []  # not before the turn ends
    for n in range(3):
        assert await ends.received() == ("predict", {"n": n})
    assert len(ends.writes) == 1
    for n in range(3):
        wire.send(ends.worker, wire.dumps((True, n, 0.0)))
    assert await asyncio.wait_for(asyncio.gather(*answers), GUARD) == [
        (True, 0),
        (True, 1),
        (True, 2),
    ]


async def test_a_lone_call_is_written_as_it_is(ends: Ends) -> None:
    frame = wire.dumps(("predict", {"x": b"\0" * 100_000}))
    answer = ends.channel.send(frame)
    assert await ends.received() == ("predict", {"x": b"\0" * 100_000})
    assert ends.writes == [frame]
    answer.cancel()


async def test_calls_never_written_when_the_socket_closed_are_not_run(ends: Ends) -> None:
    running = ends.channel.send(wire.dumps(("predict", {"n": 0})))
    assert await ends.received() == ("predict", {"n": 0})  # written: the worker runs it
    unsent = [ends.channel.send(wire.dumps(("predict", {"n": n}))) for n in (1, 2)]
    ends.channel.transport.close()  # type: ignore[union-attr]  # as a retired worker's
    with pytest.raises(_Died):
        await asyncio.wait_for(running, GUARD)
    for answer in unsent:  # they go to another worker
        with pytest.raises(_NotRun):
            await asyncio.wait_for(answer, GUARD)
    assert len(ends.writes) == 1
    assert ends.worker.recv(1 << 16) == b""  # nothing more reached the worker


async def test_a_lone_unwritten_call_is_not_run(ends: Ends) -> None:
    answer = ends.channel.send(wire.dumps(("predict", {})))
    ends.channel.transport.close()  # type: ignore[union-attr]
    with pytest.raises(_NotRun):
        await asyncio.wait_for(answer, GUARD)
    assert ends.writes == []
    assert ends.worker.recv(1 << 16) == b""  # the worker got nothing
