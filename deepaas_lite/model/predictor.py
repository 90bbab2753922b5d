"""Where predictions run: off the event loop, after the model is warmed.

``ThreadPredictor`` runs ``predict`` in threads of the server process (``threads.py``):
the plugin is already loaded and warmed there, and a slow ``predict`` never blocks the
event loop.
``pool.ProcessPredictor`` runs it in worker processes instead. Both group concurrent
requests into ``predict_batch`` calls when given a ``BatchPolicy``, and both keep to
the model's ``Limits`` (``limits.py``): slots, a bounded queue, a time limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from deepaas_lite import exceptions
from deepaas_lite.model.batching import Batcher, BatchPolicy
from deepaas_lite.model.limits import DEFAULT_LIMITS, Limits, within
from deepaas_lite.model.threads import ElasticThreads, Lane
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

# Batches of a model that run at once in threads: more rarely helps a GIL-bound
# predict_batch, and fewer running batches leave more requests for the next one.
THREAD_BATCH_CONCURRENCY = 2

T = TypeVar("T")


class Predictor(Protocol):
    """Runs one model's predictions."""

    model: ModelWrapper

    @property
    def ready(self) -> bool: ...

    @property
    def reason(self) -> str | None:
        """Why it is not ready; ``None`` once it is."""
        ...

    async def start(self, warm: bool) -> None:
        """Load and warm; a failure is logged and kept as the reason, never raised."""
        ...

    async def predict(self, kwargs: Mapping[str, Any]) -> Any: ...

    async def close(self) -> None: ...


def call_guarded(model: ModelWrapper, func: Callable[[T], Any], arg: T) -> Any:
    """Call the plugin; an exit from the plugin becomes an ordinary error."""
    try:
        return func(arg)
    except (SystemExit, KeyboardInterrupt) as exc:
        raise exceptions.PluginFailed(
            f"Model '{model.id}' tried to exit ({type(exc).__name__}: {exc})"
        ) from None


def _warm(model: ModelWrapper) -> None:
    model.warm()


def call_predict(model: ModelWrapper, kwargs: Mapping[str, Any]) -> Any:
    """Run the plugin's predict; an exit from the plugin becomes an ordinary error."""
    return call_guarded(model, model.predict, kwargs)


class ThreadPredictor:
    """Predictions in threads of this process."""

    def __init__(
        self,
        model: ModelWrapper,
        threads: ElasticThreads,
        batch: BatchPolicy | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.model = model
        self._threads = threads
        self._warmed = asyncio.Event()
        self._failure: str | None = None
        self._timeout = limits.timeout
        self._lane = Lane(threads, model.id, limits.concurrency, limits.queue_max)
        self._batcher = (
            None
            if batch is None
            else Batcher(
                model,
                batch,
                self._run_batch,
                min(THREAD_BATCH_CONCURRENCY, limits.concurrency),
                limits.queue_max,
            )
        )

    @property
    def ready(self) -> bool:
        return self._warmed.is_set() and self._failure is None

    @property
    def reason(self) -> str | None:
        if self._failure is not None:
            return self._failure
        return None if self._warmed.is_set() else "warming"

    async def start(self, warm: bool) -> None:
        """Warm the model (once, in a thread); predictions wait for it."""
        if warm:
            try:
                await asyncio.to_thread(call_guarded, self.model, _warm, self.model)
            except Exception as exc:
                self._failure = f"Model '{self.model.id}' failed to warm: {exc!r}"
                LOG.error("%s", self._failure)
        self._warmed.set()

    async def predict(self, kwargs: Mapping[str, Any]) -> Any:
        if self._timeout is None:
            return await self._predict(kwargs)
        return await within(self.model.id, self._timeout, self._predict(kwargs))

    async def _predict(self, kwargs: Mapping[str, Any]) -> Any:
        if not self._warmed.is_set():
            await self._warmed.wait()
        if self._failure is not None:
            raise exceptions.ModelNotReady(self._failure)
        if self._batcher is not None:
            return await self._batcher.submit(kwargs)
        return await self._lane.submit(call_predict, self.model, kwargs)

    async def _run_batch(self, batch: list[Mapping[str, Any]]) -> Sequence[Any]:
        outputs: Sequence[Any] = await self._threads.run(
            call_guarded, self.model, self.model.predict_batch, batch
        )
        return outputs

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.close()
