"""What the predictors of every executor share.

``BasePredictor``: the time limit around each prediction and the ``Batcher`` that
groups concurrent ones into ``predict_batch`` calls (``threads.py``'s predictor is one).
``PoolPredictor``: a pool of warmed workers that each serve one call at a time
(worker processes, Ray actors): a request joins a batch, or takes one of the pool's
slots (``Admission``); a worker answers ``(ok, value)``, the output or the error the
plugin raised (``wire.restore``).

Neither adds an await, a lock or an allocation to a prediction: ``predict`` awaits
``_predict`` directly (or ``within``, when there is a time limit), as each predictor did
on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from deepaas_lite.engine import calls, wire
from deepaas_lite.engine.batching import Batcher, BatchPolicy
from deepaas_lite.engine.limits import Admission, Limits, within
from deepaas_lite.model.wrapper import ModelWrapper


class BasePredictor(ABC):
    """A time limit around ``_predict``; a batcher running ``_run_batch`` when batching.

    ``batch_concurrency``: how many batches may run at once.
    """

    def __init__(
        self,
        model: ModelWrapper,
        batch: BatchPolicy | None,
        limits: Limits,
        batch_concurrency: int,
    ) -> None:
        self.model = model
        self._timeout = limits.timeout
        self._batcher = (
            None
            if batch is None
            else Batcher(model, batch, self._run_batch, batch_concurrency, limits.queue_max)
        )

    async def predict(self, kwargs: Mapping[str, Any]) -> Any:
        if self._timeout is None:
            return await self._predict(kwargs)
        return await within(self.model.id, self._timeout, self._predict(kwargs))

    @abstractmethod
    async def _predict(self, kwargs: Mapping[str, Any]) -> Any:
        """One prediction, without the time limit."""

    @abstractmethod
    async def _run_batch(self, batch: list[Mapping[str, Any]]) -> Sequence[Any]:
        """One ``predict_batch`` call: an output (or an exception) per request."""

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.close()


class PoolPredictor(BasePredictor):
    """Predictions of one model on a pool of ``size`` workers, one call at a time each.

    A subclass says how a call reaches an idle worker (``_call``), and extends ``close``
    to end its workers; its background tasks (``_track``) are cancelled on closing.
    """

    def __init__(
        self, model: ModelWrapper, size: int, batch: BatchPolicy | None, limits: Limits
    ) -> None:
        super().__init__(model, batch, limits, size)
        self.size = size
        self._admission = Admission(model.id, size, limits.queue_max)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    async def _predict(self, kwargs: Mapping[str, Any]) -> Any:
        if self._batcher is not None:
            return await self._batcher.submit(kwargs)
        await self._admission.acquire()
        try:
            ok, value = await self._call(calls.PREDICT, kwargs)
        finally:
            self._admission.release()
        if not ok:
            raise wire.restore(value, self.model.id)
        return value

    async def _run_batch(self, batch: list[Mapping[str, Any]]) -> Sequence[Any]:
        ok, value = await self._call(calls.PREDICT_BATCH, batch)
        if not ok:
            raise wire.restore(value, self.model.id)
        return wire.restore_outputs(value, self.model.id)

    @abstractmethod
    async def _call(self, method: str, payload: Any) -> tuple[bool, Any]:
        """``method`` (``calls.PREDICT`` with one request's arguments, or
        ``calls.PREDICT_BATCH`` with a list of them) run by an idle worker:
        ``(True, output)`` or ``(False, the plugin's error)``."""

    async def close(self) -> None:
        """Stop batching and the background tasks; a subclass then ends its workers."""
        self._closing = True
        await super().close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background until it ends or the pool closes."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
