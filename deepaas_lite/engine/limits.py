"""How much of the server one model's predictions may take.

Each model gets a number of slots (the threads it may hold at once, or its worker
processes) and a bounded queue of predictions waiting for one: a prediction that
finds the queue full is refused at once (``ModelBusy``). A slot is held until the
call has really ended, also when its client has gone or its time ran out, so one
model's abandoned slow calls can hold only its own slots, never another model's.
An optional time limit ends the wait for an answer (``PredictTimeout``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from deepaas_lite import exceptions
from deepaas_lite.config import ModelOptions

T = TypeVar("T")

DEFAULT_CONCURRENCY = 32
DEFAULT_QUEUE_MAX = 128
# Seconds a refused client is asked to wait: the queue moves as soon as a call ends.
RETRY_AFTER = 1
# The message of the cancellation of a prediction whose client has gone (the server
# cancels its request so): unlike a time limit, it does not say the call is stuck.
CLIENT_GONE = "the client has gone"


@dataclass(frozen=True)
class Limits:
    """One model's bounds; ``timeout`` ``None`` is no time limit."""

    concurrency: int = DEFAULT_CONCURRENCY
    queue_max: int = DEFAULT_QUEUE_MAX
    timeout: float | None = None


DEFAULT_LIMITS = Limits()


class Admission:
    """At most ``slots`` calls at once, at most ``queue_max`` more waiting for a slot."""

    def __init__(self, model_id: str, slots: int, queue_max: int) -> None:
        self._model_id = model_id
        self._slots = asyncio.Semaphore(max(1, slots))
        self._queue_max = max(0, queue_max)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        return self._waiting

    async def acquire(self) -> None:
        """A slot, once one is free; ``ModelBusy`` when the queue is full already."""
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: taken without waiting
            return
        if self._waiting >= self._queue_max:
            raise busy(self._model_id, self._waiting)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1

    def release(self) -> None:
        self._slots.release()


def busy(model_id: str, waiting: int) -> exceptions.ModelBusy:
    return exceptions.ModelBusy(
        f"Model '{model_id}' is busy: {waiting} predictions are waiting already; try again",
        retry_after=RETRY_AFTER,
    )


async def within(model_id: str, timeout: float, call: Awaitable[T]) -> T:
    """``call``'s result, or ``PredictTimeout`` after ``timeout`` seconds (``call`` is
    cancelled then). A ``TimeoutError`` raised by the call itself stays what it is."""
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            return await call
    except TimeoutError:
        if scope.expired():
            raise exceptions.PredictTimeout(
                f"Model '{model_id}' did not answer within {timeout:g} seconds"
            ) from None
        raise


def limits_of(options: ModelOptions) -> Limits:
    """A model's limits, from its options (``Settings.options_for``)."""
    return Limits(
        concurrency=_or(options.predict_concurrency, DEFAULT_CONCURRENCY),
        queue_max=_or(options.predict_queue_max, DEFAULT_QUEUE_MAX),
        timeout=options.predict_timeout or None,
    )


def thread_budget(options: Iterable[ModelOptions]) -> int:
    """Threads enough for every threaded model to use all its slots at once, so that
    no model waits for a thread that another model's slow calls hold."""
    return max(
        1,
        sum(limits_of(o).concurrency for o in options if not o.predict_workers),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
