"""Where predictions run: off the event loop, after the model is warmed.

``ThreadPredictor`` runs ``predict`` in threads of the server process (``threads.py``):
the plugin is already loaded and warmed there, and a slow ``predict`` never blocks the
event loop.
``pool.ProcessPredictor`` runs it in worker processes instead. Both group concurrent
requests into ``predict_batch`` calls when given a ``BatchPolicy``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from deepaas_lite import exceptions
from deepaas_lite.model.batching import Batcher, BatchPolicy
from deepaas_lite.model.threads import ElasticThreads
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

    async def start(self, warm: bool) -> None: ...

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
    ) -> None:
        self.model = model
        self._threads = threads
        self._warmed = asyncio.Event()
        self._failure: str | None = None
        self._batcher = (
            None
            if batch is None
            else Batcher(model, batch, self._run_batch, THREAD_BATCH_CONCURRENCY)
        )

    @property
    def ready(self) -> bool:
        return self._warmed.is_set() and self._failure is None

    async def start(self, warm: bool) -> None:
        """Warm the model (once, in a thread); predictions wait for it."""
        if warm:
            try:
                await asyncio.to_thread(self.model.warm)
            except Exception as exc:
                self._failure = f"Model '{self.model.id}' failed to warm: {exc!r}"
                LOG.error("%s", self._failure)
        self._warmed.set()

    async def predict(self, kwargs: Mapping[str, Any]) -> Any:
        if not self._warmed.is_set():
            await self._warmed.wait()
        if self._failure is not None:
            raise exceptions.ModelNotReady(self._failure)
        if self._batcher is not None:
            return await self._batcher.submit(kwargs)
        return await self._threads.run(call_predict, self.model, kwargs)

    async def _run_batch(self, batch: list[Mapping[str, Any]]) -> Sequence[Any]:
        outputs: Sequence[Any] = await self._threads.run(
            call_guarded, self.model, self.model.predict_batch, batch
        )
        return outputs

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.close()
