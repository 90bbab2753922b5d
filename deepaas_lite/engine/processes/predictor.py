"""Predictions in a pool of warmed worker processes (``--predict-workers N``).

Each worker is a spawned process that loads the plugin by its entry-point name and
warms it once (``worker.py``), then runs the calls it receives over its own socket,
one after another, in their order. A call goes to the worker holding the fewest, in
turn. A worker whose calls are quick (``QUICK_CALL_S`` on average, as it reports
them) holds up to ``PIPELINE`` at once: it goes from one to the next without waiting
for the server to read its last answer and send it more work, which the server does
for many answers at a time; the calls sent to a busy worker, or made while others of
the model are under way, go to it together, in one write. A worker whose calls are
slower holds one at a time, so that no call waits behind a slow one while another
worker is free. Calls that wait for a place take places in the order they came.

A worker that dies, sends an answer that cannot be read, or runs a call that was
abandoned (its time limit passed, its job was cancelled) is replaced and warmed again;
only the call it was running fails, and the calls it held but had not started go to
another worker. A call whose client has gone runs on, its answer dropped: a worker
still running it ``GONE_GRACE_S`` later is replaced. Closing stops every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import socket
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.engine import calls, wire
from deepaas_lite.engine.base import PoolPredictor
from deepaas_lite.engine.batching import BatchPolicy
from deepaas_lite.engine.children import SPAWN, Child, describe_exit
from deepaas_lite.engine.limits import CLIENT_GONE, DEFAULT_LIMITS, Limits, busy
from deepaas_lite.engine.processes import worker
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

# Calls a worker whose calls are quick may hold at once (its running one included).
PIPELINE = 8
# A worker whose calls take at most this long, on average, holds more than one: a
# round trip through the server's event loop is of this order under load.
QUICK_CALL_S = 0.002

# Seconds a worker may go on with a call whose client has gone (its answer is dropped)
# before it is replaced: a quick call ends sooner than a new worker starts and warms.
GONE_GRACE_S = 5.0

STOP_GRACE = 1.0
EXIT_WAIT = 5.0


class _Died(Exception):
    """The worker went away while running this call."""


class _NotRun(Exception):
    """The worker went away before it started this call: send it again."""


class _Unreadable(Exception):
    """The worker's answer to this call could not be read."""


class _Channel(asyncio.Protocol):
    """The server's end of a worker's socket: frames out, answers back in their order.

    The worker runs its calls one after another, in the order they were sent, so the
    oldest unanswered call is the one it runs and the others have not started.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()  # sent, not yet answered
        self.took: float | None = None  # the worker's time per call, averaged
        self.on_answer: Callable[[], None] = _nothing
        self._buffer = bytearray()
        self._writable: asyncio.Future[None] | None = None
        self._outgoing: list[bytes] = []  # frames for the busy worker, not yet written

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, frame: bytes, alone: bool = True) -> asyncio.Future[Any]:
        """Send ``frame``: at once to a worker that has nothing to run, when the call is
        ``alone`` (no other call of the model is under way); else with the others sent
        meanwhile, in one write (a system call) at the next turn of the event loop, or
        as soon as the worker has answered every call it was sent.

        Under load, the calls of many requests are sent in the same turn: the first of
        them, written at once, would cost a write and a wake-up of the worker of its own.
        """
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        transport = self.transport
        if transport is None or transport.is_closing():
            answer.set_exception(_NotRun())
            return answer
        idle = not self.waiting
        self.waiting.append(answer)
        if idle and alone:
            transport.write(frame)
            return answer
        if not self._outgoing:
            loop.call_soon(self._flush)
        self._outgoing.append(frame)
        return answer

    def _flush(self) -> None:
        outgoing = self._outgoing
        transport = self.transport
        if not outgoing or transport is None or transport.is_closing():
            return  # never sent: ``connection_lost`` tells their calls so
        self._outgoing = []
        transport.write(outgoing[0] if len(outgoing) == 1 else b"".join(outgoing))

    async def drain(self) -> None:
        """Until the socket takes more (a large frame waits for the worker to read)."""
        if self._writable is not None:
            await asyncio.shield(self._writable)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= wire.HEADER:
            size = int.from_bytes(buffer[: wire.HEADER], "big")
            end = wire.HEADER + size
            if len(buffer) < end:
                return
            frame = bytes(buffer[wire.HEADER : end])
            del buffer[:end]
            self._answer(frame)

    def _answer(self, frame: bytes) -> None:
        if not self.waiting:  # not asked: the worker is not ours to trust
            assert self.transport is not None
            self.transport.close()
            return
        call = self.waiting.popleft()
        try:
            message = pickle.loads(frame)
        except Exception as exc:
            _settle(call, exception=_Unreadable(repr(exc)))
        else:
            if isinstance(message, tuple) and len(message) == 3:  # (ok, value, seconds)
                ok, value, took = message
                self.took = took if self.took is None else self.took + (took - self.took) / 8
                message = (ok, value)
            _settle(call, result=message)
        if self._outgoing and len(self._outgoing) == len(self.waiting):
            self._flush()  # it has run every call it was sent: no waiting for the turn
        self.on_answer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.resume_writing()
        sent = len(self.waiting) - len(self._outgoing)  # the unsent ones are the last
        for position, call in enumerate(self.waiting):
            _settle(call, exception=_Died() if position == 0 < sent else _NotRun())
        self.waiting.clear()
        self._outgoing.clear()
        self.on_answer()


def _settle(
    call: asyncio.Future[Any], result: Any = None, exception: BaseException | None = None
) -> None:
    """Give ``call`` its outcome, unless it was abandoned (its answer is not wanted)."""
    if call.done():
        return
    if exception is not None:
        call.set_exception(exception)
    else:
        call.set_result(result)


def _nothing() -> None:
    pass


class _Worker:
    """One worker process and the server's end of its socket."""

    def __init__(self, child: Child, channel: _Channel) -> None:
        self.child = child
        self.channel = channel
        self.pid = child.pid

    @property
    def alive(self) -> bool:
        return self.child.alive

    @property
    def open(self) -> bool:
        """Whether it can take a call: its process lives and its socket is open."""
        transport = self.channel.transport
        return self.child.alive and transport is not None and not transport.is_closing()

    @property
    def in_flight(self) -> int:
        return len(self.channel.waiting)

    @property
    def depth(self) -> int:
        """Calls it may hold at once: several when its calls are quick, else one."""
        took = self.channel.took
        return PIPELINE if took is not None and took <= QUICK_CALL_S else 1

    def close(self) -> None:
        if self.channel.transport is not None:
            self.channel.transport.close()


class ProcessPredictor(PoolPredictor):
    """Predictions of one model in ``workers`` worker processes."""

    def __init__(
        self,
        model: ModelWrapper,
        workers: int,
        batch: BatchPolicy | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(model, max(1, workers), batch, limits)
        self._queue_max = limits.queue_max
        self._warm = True
        self._workers: list[_Worker] = []  # serving, in the order calls go round them
        self._turn = 0
        self._room: deque[asyncio.Future[None]] = deque()  # calls waiting for a worker
        self._woken = 0  # of which woken, that have not yet taken their place
        self._children: set[Child] = set()  # started and not yet reaped
        self._started = False
        self._failure: str | None = None
        self._spawned = 0
        self.peak_in_flight = 0  # the most calls one worker has held at once
        self._under_way = 0  # calls being sent, held by a worker, or just answered

    @property
    def ready(self) -> bool:
        return self._started and self._failure is None and bool(self._workers)

    @property
    def reason(self) -> str | None:
        if self._failure is not None:
            return self._failure
        if not self._started:
            return "starting its worker processes"
        return None if self._workers else "replacing its worker processes"

    @property
    def queued(self) -> int:
        """Calls waiting for a worker to take them."""
        return len(self._room)

    @property
    def in_flight(self) -> int:
        """Calls the workers hold (their running ones included)."""
        return sum(w.in_flight for w in self._workers)

    @property
    def pids(self) -> list[int]:
        """The live workers' process ids."""
        return [w.pid for w in self._workers if w.pid is not None]

    async def start(self, warm: bool) -> None:
        """Start the workers; ready once every one of them has loaded and warmed."""
        self._warm = warm
        started = await asyncio.gather(
            *(self._spawn() for _ in range(self.size)), return_exceptions=True
        )
        errors = []
        for new in started:
            if isinstance(new, _Worker):
                self._serve(new)
            elif isinstance(new, Exception):
                errors.append(new)
            elif isinstance(new, BaseException):
                raise new
        if not self._workers:
            why = f": {errors[0]!r}" if errors else ""
            self._fail(f"Model '{self.model.id}': no predict worker process could start{why}")
        elif errors:
            LOG.error(
                "Model '%s': %d of %d predict worker processes could not start: %r",
                self.model.id,
                len(errors),
                self.size,
                errors[0],
            )
        self._started = True

    async def close(self) -> None:
        await super().close()
        for serving in list(self._workers):
            serving.close()  # its worker exits at once when idle
        self._workers.clear()
        await asyncio.gather(*(_end(child) for child in list(self._children)))
        self._children.clear()

    async def _predict(self, kwargs: Mapping[str, Any]) -> Any:
        # The workers' own queues are the slots (``_acquire``), not the pool's admission.
        if self._batcher is not None:
            return await self._batcher.submit(kwargs)
        ok, value = await self._call(calls.PREDICT, kwargs)
        if not ok:
            raise wire.restore(value, self.model.id)
        return value

    async def _call(self, method: str, payload: Any) -> tuple[bool, Any]:
        try:
            frame = wire.dumps((method, payload))
        except Exception as exc:
            raise exceptions.PluginFailed(
                f"Arguments for model '{self.model.id}' cannot reach its worker process: "
                f"{exc} {worker.USE_THREADS}"
            ) from None
        self._under_way += 1
        try:
            return await self._deliver(frame)
        finally:
            self._under_way -= 1

    async def _deliver(self, frame: bytes) -> tuple[bool, Any]:
        """``frame``'s answer, from the worker that runs it."""
        ahead = False
        while True:
            chosen = await self._acquire(ahead)
            await chosen.channel.drain()
            answer = chosen.channel.send(frame, alone=self._under_way == 1)
            self.peak_in_flight = max(self.peak_in_flight, chosen.in_flight)
            try:
                # A request that goes away cancels ``answer``; it keeps its place in the
                # worker's order of answers (``waiting``) until its answer comes.
                result: tuple[bool, Any] = await answer
            except _NotRun:
                ahead = True  # the worker went away first: another one runs it, soon
                continue
            except _Died:
                code = await self._exit_code(chosen)
                raise exceptions.PluginFailed(
                    f"worker process for model '{self.model.id}' died ({describe_exit(code)}) "
                    f"while predicting"
                ) from None
            except _Unreadable as exc:
                self._retire(chosen, f"sent an answer that could not be read ({exc})")
                raise exceptions.PluginFailed(
                    f"Model '{self.model.id}': the answer of its worker process could not be "
                    f"read ({exc}); the worker is replaced"
                ) from None
            except asyncio.CancelledError as cancel:
                if answer.cancelled():  # abandoned: its answer, when it comes, is dropped
                    if cancel.args == (CLIENT_GONE,):
                        loop = asyncio.get_running_loop()
                        loop.call_later(GONE_GRACE_S, self._overdue, chosen, answer)
                    else:  # its time limit passed, or its job was cancelled
                        self._retire_if_running(chosen, answer, "was abandoned by its call")
                raise
            return result

    async def _acquire(self, ahead: bool = False) -> _Worker:
        """The worker to send a call to: the one holding fewest calls, in turn.

        While each holds as many as it may (one, when its calls are slow), calls wait
        and take places in the order they came: a new call does not take a place that
        a waiting one has been woken for, and a call that was in line (``ahead``: it
        was woken, or its worker went away before running it) waits at the front.
        """
        while True:
            if self._failure is not None:
                raise exceptions.ModelNotReady(self._failure)
            if ahead or (not self._room and self._free_places() > self._woken):
                chosen = self._least_busy()
                if chosen is not None:
                    return chosen
            if not ahead and len(self._room) >= self._queue_max:
                raise busy(self.model.id, len(self._room))
            room: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if ahead:
                self._room.appendleft(room)
            else:
                self._room.append(room)
            try:
                await room
            except asyncio.CancelledError:
                if room.done() and not room.cancelled():
                    self._woken -= 1
                    self._make_room()  # pass the turn on to the next waiting call
                raise
            finally:
                if not room.done() or room.cancelled():  # else ``_wake`` took it out
                    with contextlib.suppress(ValueError):
                        self._room.remove(room)  # its error would hold the future's repr
            self._woken -= 1
            ahead = True

    def _least_busy(self) -> _Worker | None:
        best: _Worker | None = None
        count = len(self._workers)
        for step in range(count):
            candidate = self._workers[(self._turn + step) % count]
            held = candidate.in_flight
            if not candidate.open or held >= candidate.depth:
                continue
            if best is None or held < best.in_flight:
                best = candidate
                self._turn = (self._turn + step + 1) % count
                if held == 0:
                    break
        return best

    def _free_places(self) -> int:
        return sum(max(0, w.depth - w.in_flight) for w in self._workers if w.open)

    def _make_room(self) -> None:
        """Wake the longest waiting calls, as many as the workers have places for that
        no woken call has yet taken."""
        self._wake(self._free_places() - self._woken)

    def _wake(self, count: int) -> None:
        """Wake up to ``count`` waiting calls, the longest waiting first."""
        while count > 0 and self._room:
            room = self._room.popleft()
            if not room.done():
                room.set_result(None)
                self._woken += 1
                count -= 1

    def _serve(self, new: _Worker) -> None:
        """``new`` takes calls."""
        new.channel.on_answer = self._make_room
        self._workers.append(new)
        self._make_room()

    def _unserve(self, gone: _Worker) -> bool:
        """``gone`` takes no more calls; whether it was taking them."""
        if gone not in self._workers:
            return False
        self._workers.remove(gone)
        return True

    def _overdue(self, chosen: _Worker, answer: asyncio.Future[Any]) -> None:
        self._retire_if_running(
            chosen, answer, f"ran on for {GONE_GRACE_S:g} s a call whose client had gone"
        )

    def _retire_if_running(self, chosen: _Worker, answer: asyncio.Future[Any], why: str) -> None:
        """Retire ``chosen`` if it is running the call of ``answer`` (its oldest)."""
        waiting = chosen.channel.waiting
        if waiting and waiting[0] is answer:
            self._retire(chosen, why)

    async def _exit_code(self, chosen: _Worker) -> int | None:
        if not await chosen.child.wait(EXIT_WAIT):  # it closed its socket but lives on
            chosen.child.kill()
            await chosen.child.wait()
        return chosen.child.reap()

    def _retire(self, chosen: _Worker, why: str) -> None:
        """Stop ``chosen``, whose answer failed or was abandoned, and start another."""
        if not self._unserve(chosen):  # already gone, and replaced if need be
            return
        chosen.close()  # the calls it had not started go to another worker
        if self._closing:
            return
        LOG.error(
            "Model '%s': predict worker %s %s; starting another", self.model.id, chosen.pid, why
        )
        self._track(self._renew(chosen))

    async def _renew(self, old: _Worker) -> None:
        old.child.terminate()  # it may be busy in the plugin: do not wait for it
        await self._stop(old)
        await self._replace()

    async def _spawn(self) -> _Worker | None:
        """A new worker, once it has loaded and warmed; ``None`` if it could not."""
        self._spawned += 1
        ours, theirs = socket.socketpair()
        child = Child(
            SPAWN.Process(
                target=worker.main,
                args=(theirs, self.model.id, self._warm),
                name=f"deepaas-predict-{self.model.id}-{self._spawned}",
            )
        )
        try:
            child.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._children.add(child)
        loop = asyncio.get_running_loop()
        _, channel = await loop.create_connection(_Channel, sock=ours)
        new = _Worker(child, channel)
        hello: asyncio.Future[Any] = loop.create_future()
        channel.waiting.append(hello)  # the worker's first message: ready or failed
        child.exited.add_done_callback(lambda _: self._on_exit(new))
        try:
            kind, detail = await hello
        except (_Died, _NotRun):
            await child.wait()
            kind, detail = "failed", f"exited while starting ({describe_exit(child.reap())})"
        except _Unreadable as exc:
            kind, detail = "failed", f"sent a first message that could not be read ({exc})"
        except asyncio.CancelledError:
            await self._stop(new)
            raise
        if kind != "ready":
            LOG.error("Model '%s': predict worker process failed: %s", self.model.id, detail)
            await self._stop(new)
            return None
        LOG.debug("Model '%s': predict worker %s ready", self.model.id, child.pid)
        if not new.alive:
            return None
        return new

    def _on_exit(self, gone: _Worker) -> None:
        """The process has ended: reap it; replace it if it was serving."""
        code = gone.child.reap()
        self._children.discard(gone.child)
        gone.close()
        if not self._unserve(gone) or self._closing:
            return
        LOG.error(
            "Model '%s': predict worker %s died (%s); starting another",
            self.model.id,
            gone.pid,
            describe_exit(code),
        )
        self._track(self._replace())

    async def _replace(self) -> None:
        try:
            new = await self._spawn()
        except Exception as exc:
            LOG.error("Model '%s': a predict worker could not start: %r", self.model.id, exc)
            new = None
        if new is not None:
            self._serve(new)
        elif not self._workers:
            self._fail(f"Model '{self.model.id}': every predict worker process has failed")

    def _fail(self, message: str) -> None:
        self._failure = message
        LOG.error("%s", message)
        self._wake(len(self._room))  # every waiting call hears it

    async def _stop(self, gone: _Worker) -> None:
        """Close its socket (it exits), then terminate or kill it if it lingers."""
        self._unserve(gone)
        gone.close()
        await _end(gone.child)
        self._children.discard(gone.child)


async def _end(child: Child) -> None:
    """Give ``child`` (its socket closed) a moment to exit, then stop it; reap it."""
    if not await child.wait(STOP_GRACE):
        await child.stop(STOP_GRACE)
    child.reap()
