"""Adaptive batching: concurrent requests to one model grouped into ``predict_batch`` calls.

A batch closes when it holds ``max_size`` requests or ``max_delay`` seconds after its
first request arrived, whichever comes first. At most ``capacity`` batches run at
once; while they all run, requests keep queueing, so batches grow with the load, up to
``queue_max`` waiting requests (never fewer than one batch): more are refused with
``ModelBusy``. Each request gets its own output, or its own error.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deepaas_lite.engine.limits import DEFAULT_QUEUE_MAX, busy
from deepaas_lite.model.wrapper import ModelWrapper

DEFAULT_MAX_BATCH_SIZE = 32
DEFAULT_MAX_BATCH_DELAY = 0.005

RunBatch = Callable[[list[Mapping[str, Any]]], Awaitable[Sequence[Any]]]


@dataclass(frozen=True)
class BatchPolicy:
    """When a batch closes."""

    max_size: int
    max_delay: float


def policy_for(
    model: ModelWrapper, max_batch_size: int | None = None, max_batch_delay: float | None = None
) -> BatchPolicy | None:
    """The batching for ``model``: the operator's values, else the plugin's, else defaults.

    ``None`` (no batching) when the plugin has no ``predict_batch`` or the size is 1.
    """
    if not model.can_predict_batch:
        return None
    plugin_size, plugin_delay = model.batch_defaults()
    size = _first(max_batch_size, plugin_size, DEFAULT_MAX_BATCH_SIZE)
    delay = _first(max_batch_delay, plugin_delay, DEFAULT_MAX_BATCH_DELAY)
    if size <= 1:
        return None
    return BatchPolicy(max_size=size, max_delay=max(0.0, delay))


def _first(*values: Any) -> Any:
    return next(value for value in values if value is not None)


@dataclass
class _Pending:
    kwargs: Mapping[str, Any]
    future: asyncio.Future[Any]
    arrived: float


class Batcher:
    """Queues requests and runs them, in batches, through ``run``."""

    def __init__(
        self,
        model: ModelWrapper,
        policy: BatchPolicy,
        run: RunBatch,
        capacity: int,
        queue_max: int = DEFAULT_QUEUE_MAX,
    ) -> None:
        self.model = model
        self.policy = policy
        self._queue_max = max(queue_max, policy.max_size)
        self._run = run
        self._slots = asyncio.Semaphore(max(1, capacity))
        self._queue: deque[_Pending] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._collector: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, kwargs: Mapping[str, Any]) -> Any:
        """One request's output (or its error), once its batch has run."""
        if len(self._queue) >= self._queue_max:
            raise busy(self.model.id, len(self._queue))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append(_Pending(kwargs, future, loop.time()))
        if self._collector is None:
            # A fresh context: a batch serves many requests, so its lines name none of them.
            self._collector = asyncio.create_task(
                self._collect(), name=f"batch {self.model.id}", context=contextvars.Context()
            )
        if len(self._queue) == 1 or len(self._queue) >= self.policy.max_size:
            self._poke()
        return await future

    async def close(self) -> None:
        tasks = [t for t in (self._collector, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._queue:
            self._queue.popleft().future.cancel()

    def _poke(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _sleep(self, timeout: float | None) -> None:
        """Until ``_poke`` or ``timeout`` seconds, whichever first."""
        loop = asyncio.get_running_loop()
        self._wake = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, self._poke)
        try:
            await self._wake
        finally:
            self._wake = None
            if timer is not None:
                timer.cancel()

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._queue:
                await self._sleep(None)
            deadline = self._queue[0].arrived + self.policy.max_delay
            while len(self._queue) < self.policy.max_size:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await self._sleep(remaining)
            await self._slots.acquire()
            batch = self._take()
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._execute(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        while self._queue and len(batch) < self.policy.max_size:
            pending = self._queue.popleft()
            if not pending.future.done():  # a request whose client went away
                batch.append(pending)
        return batch

    async def _execute(self, batch: list[_Pending]) -> None:
        try:
            outputs = self.model.split_batch(len(batch), await self._run([p.kwargs for p in batch]))
        except asyncio.CancelledError:
            for pending in batch:
                pending.future.cancel()
            raise
        except Exception as exc:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        finally:
            self._slots.release()
        for pending, output in zip(batch, outputs, strict=True):
            if pending.future.done():
                continue
            if isinstance(output, BaseException):
                pending.future.set_exception(output)
            else:
                pending.future.set_result(output)
