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


def count_writes(channel: _Channel) -> list[bytes]:
    """What the server writes on ``channel``'s socket from now on, a write each."""
    transport = channel.transport
    assert transport is not None
    writes: list[bytes] = []
    write = transport.write

    def counted(data: Any) -> None:
        writes.append(bytes(data))
        write(data)

    transport.write = counted  # type: ignore[method-assign]
    return writes


class Ends:
    def __init__(self, channel: _Channel, worker: socket.socket) -> None:
        self.channel = channel
        self.worker = worker  # the worker's end, blocking
        self.writes = count_writes(channel)

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


async def test_a_call_to_an_idle_worker_is_written_at_once(ends: Ends) -> None:
    frame = wire.dumps(("predict", {"x": b"\0" * 100_000}))
    answer = ends.channel.send(frame)
    assert ends.writes == [frame]  # before the turn of the loop ends
    assert await ends.received() == ("predict", {"x": b"\0" * 100_000})
    answer.cancel()


async def test_a_call_that_is_not_alone_waits_for_the_turn_even_to_an_idle_worker(
    ends: Ends,
) -> None:
    """Other calls of the model are under way: the calls sent in this turn go together."""
    frames = [wire.dumps(("predict", {"n": n})) for n in range(3)]
    answers = [ends.channel.send(frame, alone=False) for frame in frames]
    assert ends.writes == []  # not even the first: the others may come in this turn
    for n in range(3):
        assert await ends.received() == ("predict", {"n": n})
    assert ends.writes == [b"".join(frames)]
    for n in range(3):
        wire.send(ends.worker, wire.dumps((True, n, 0.0)))
    assert await asyncio.wait_for(asyncio.gather(*answers), GUARD) == [(True, n) for n in range(3)]


async def test_the_calls_sent_to_a_busy_worker_go_in_one_write(ends: Ends) -> None:
    frames = [wire.dumps(("predict", {"n": n})) for n in range(4)]
    answers = [ends.channel.send(frame) for frame in frames]
    assert ends.writes == [frames[0]]  # the others wait for the turn to end
    for n in range(4):
        assert await ends.received() == ("predict", {"n": n})
    assert ends.writes == [frames[0], b"".join(frames[1:])]
    for n in range(4):
        wire.send(ends.worker, wire.dumps((True, n, 0.0)))
    assert await asyncio.wait_for(asyncio.gather(*answers), GUARD) == [(True, n) for n in range(4)]


async def test_a_worker_that_has_answered_every_call_gets_the_waiting_ones_at_once(
    ends: Ends,
) -> None:
    first = ends.channel.send(wire.dumps(("predict", {"n": 0})))
    queued = ends.channel.send(wire.dumps(("predict", {"n": 1})))
    assert len(ends.writes) == 1
    ends.channel.data_received(wire.dumps((True, 0, 0.0)))  # its answer, read in this turn
    assert len(ends.writes) == 2  # not at the turn's end: the worker would wait for it
    assert await asyncio.wait_for(first, GUARD) == (True, 0)
    for n in range(2):
        assert await ends.received() == ("predict", {"n": n})
    wire.send(ends.worker, wire.dumps((True, 1, 0.0)))
    assert await asyncio.wait_for(queued, GUARD) == (True, 1)
    assert len(ends.writes) == 2


async def test_calls_never_written_when_the_socket_closed_are_not_run(ends: Ends) -> None:
    running = ends.channel.send(wire.dumps(("predict", {"n": 0})))  # written at once
    unsent = [ends.channel.send(wire.dumps(("predict", {"n": n}))) for n in (1, 2)]
    ends.channel.transport.close()  # type: ignore[union-attr]  # as a retired worker's
    with pytest.raises(_Died):
        await asyncio.wait_for(running, GUARD)
    for answer in unsent:  # they go to another worker
        with pytest.raises(_NotRun):
            await asyncio.wait_for(answer, GUARD)
    assert len(ends.writes) == 1
    assert await ends.received() == ("predict", {"n": 0})
    assert ends.worker.recv(1 << 16) == b""  # nothing more reached the worker
