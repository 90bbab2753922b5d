"""Predictions in a pool of warmed worker processes (``--predict-workers N``).

Each worker is a spawned process that loads the plugin by its entry-point name and
warms it once (``worker.py``), then serves one call at a time over its own
socket. The server keeps the idle workers in a queue and hands each request (or
batch) to the next idle one. A worker that dies, sends an answer that cannot be read,
or runs a call that was abandoned (its time limit passed) is replaced and warmed
again; only the call it was running fails. Closing stops every worker.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.engine import wire
from deepaas_lite.engine.base import PoolPredictor
from deepaas_lite.engine.batching import BatchPolicy
from deepaas_lite.engine.children import SPAWN, Child, describe_exit
from deepaas_lite.engine.limits import DEFAULT_LIMITS, Limits
from deepaas_lite.engine.processes import worker
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

STOP_GRACE = 1.0
EXIT_WAIT = 5.0


class _Worker:
    """One worker process and the server's end of its socket."""

    def __init__(
        self, child: Child, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.child = child
        self.reader = reader
        self.writer = writer
        self.pid = child.pid

    @property
    def alive(self) -> bool:
        return self.child.alive

    async def call(self, frame: bytes) -> Any:
        self.writer.write(frame)
        await self.writer.drain()
        return await wire.read(self.reader)


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
        self._warm = True
        self._workers: set[_Worker] = set()
        self._idle: asyncio.Queue[_Worker | None] = asyncio.Queue()
        self._children: set[Child] = set()  # started and not yet reaped
        self._started = False
        self._failure: str | None = None
        self._spawned = 0

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
                self._idle.put_nowait(new)
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
            serving.writer.close()  # its worker exits at once when idle
        self._workers.clear()
        await asyncio.gather(*(_end(child) for child in list(self._children)))
        self._children.clear()

    async def _call(self, method: str, payload: Any) -> tuple[bool, Any]:
        try:
            frame = wire.dumps((method, payload))
        except Exception as exc:
            raise exceptions.PluginFailed(
                f"Arguments for model '{self.model.id}' cannot reach its worker process: {exc}"
            ) from None
        chosen = await self._acquire()
        # Shielded: a request that goes away must not leave a half-read answer behind.
        exchange = asyncio.ensure_future(self._exchange(chosen, frame))
        try:
            result: tuple[bool, Any] = await asyncio.shield(exchange)
        except asyncio.CancelledError:
            if not exchange.done():  # abandoned (a timeout): its answer is not wanted
                exchange.add_done_callback(_consume)
                self._retire(chosen, "was abandoned by its call")
            raise
        return result

    async def _acquire(self) -> _Worker:
        while True:
            if self._failure is not None:
                raise exceptions.ModelNotReady(self._failure)
            chosen = await self._idle.get()
            if chosen is None:  # the pool has failed: pass the word on
                self._idle.put_nowait(None)
                continue
            if chosen.alive:
                return chosen

    async def _exchange(self, chosen: _Worker, frame: bytes) -> tuple[bool, Any]:
        """One call; the worker goes back to the idle ones only when it all went well."""
        try:
            answer: tuple[bool, Any] = await chosen.call(frame)
        except (EOFError, OSError):
            code = await self._exit_code(chosen)
            raise exceptions.PluginFailed(
                f"worker process for model '{self.model.id}' died ({describe_exit(code)}) "
                f"while predicting"
            ) from None
        except Exception as exc:  # e.g. an answer that does not unpickle here
            self._retire(chosen, f"sent an answer that could not be read ({exc!r})")
            raise exceptions.PluginFailed(
                f"Model '{self.model.id}': the answer of its worker process could not be "
                f"read ({exc!r}); the worker is replaced"
            ) from None
        self._idle.put_nowait(chosen)
        return answer

    def _retire(self, chosen: _Worker, why: str) -> None:
        """Stop ``chosen``, whose exchange failed or was abandoned, and start another."""
        if chosen not in self._workers:  # already gone, and replaced if need be
            return
        self._workers.discard(chosen)
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

    async def _exit_code(self, chosen: _Worker) -> int | None:
        if not await chosen.child.wait(EXIT_WAIT):  # it closed its socket but lives on
            chosen.child.kill()
            await chosen.child.wait()
        return chosen.child.reap()

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
        reader, writer = await asyncio.open_connection(sock=ours)
        new = _Worker(child, reader, writer)
        child.exited.add_done_callback(lambda _: self._on_exit(new))
        try:
            kind, detail = await wire.read(reader)
        except EOFError:
            await child.wait()
            kind, detail = "failed", f"exited while starting ({describe_exit(child.reap())})"
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
        self._workers.add(new)
        return new

    def _on_exit(self, gone: _Worker) -> None:
        """The process has ended: reap it; replace it if it was serving."""
        code = gone.child.reap()
        self._children.discard(gone.child)
        gone.writer.close()
        was_serving = gone in self._workers
        self._workers.discard(gone)
        if self._closing or not was_serving:
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
            self._idle.put_nowait(new)
        elif not self._workers:
            self._fail(f"Model '{self.model.id}': every predict worker process has failed")

    def _fail(self, message: str) -> None:
        self._failure = message
        LOG.error("%s", message)
        self._idle.put_nowait(None)

    async def _stop(self, gone: _Worker) -> None:
        """Close its socket (it exits), then terminate or kill it if it lingers."""
        self._workers.discard(gone)
        gone.writer.close()
        await _end(gone.child)
        self._children.discard(gone.child)


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned exchange's outcome, so that nothing is logged for it."""
    if not task.cancelled():
        task.exception()


async def _end(child: Child) -> None:
    """Give ``child`` (its socket closed) a moment to exit, then stop it; reap it."""
    if not await child.wait(STOP_GRACE):
        await child.stop(STOP_GRACE)
    child.reap()
