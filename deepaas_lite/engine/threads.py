"""The thread executor: predictions in threads of the server process.

``ThreadPredictor`` runs ``predict`` in the shared ``ElasticThreads`` (``elastic.py``):
the plugin is already loaded and warmed there, and a slow ``predict`` never blocks the
event loop. A model whose calls prove quick runs them on the event loop itself
(``inline.py``): no trade of the GIL with a thread, which costs such a call more
than its work. Like every ``Predictor`` it groups concurrent requests into
``predict_batch`` calls when given a ``BatchPolicy``, and keeps to the model's
``Limits`` (``limits.py``): slots, a bounded queue, a time limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.engine.base import BasePredictor
from deepaas_lite.engine.batching import BatchPolicy
from deepaas_lite.engine.calls import call_guarded, call_predict, warm_model
from deepaas_lite.engine.elastic import ElasticThreads, Lane
from deepaas_lite.engine.inline import QuickCalls
from deepaas_lite.engine.limits import DEFAULT_LIMITS, Limits
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

# Batches of a model that run at once in threads: more rarely helps a GIL-bound
# predict_batch, and fewer running batches leave more requests for the next one.
THREAD_BATCH_CONCURRENCY = 2


class ThreadPredictor(BasePredictor):
    """Predictions in threads of this process."""

    def __init__(
        self,
        model: ModelWrapper,
        threads: ElasticThreads,
        batch: BatchPolicy | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(model, batch, limits, min(THREAD_BATCH_CONCURRENCY, limits.concurrency))
        self._threads = threads
        self._warmed = asyncio.Event()
        self._failure: str | None = None
        self._lane = Lane(threads, model.id, limits.concurrency, limits.queue_max)
        self._quick = QuickCalls()

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
                await asyncio.to_thread(call_guarded, self.model, warm_model, self.model)
            except Exception as exc:
                self._failure = f"Model '{self.model.id}' failed to warm: {exc!r}"
                LOG.error("%s", self._failure)
        self._warmed.set()

    async def _predict(self, kwargs: Mapping[str, Any]) -> Any:
        if not self._warmed.is_set():
            await self._warmed.wait()
        if self._failure is not None:
            raise exceptions.ModelNotReady(self._failure)
        if self._batcher is not None:
            return await self._batcher.submit(kwargs)
        if self._quick.on_loop and self._lane.idle:
            return self._quick.run(call_predict, self.model, kwargs)
        return await self._lane.submit(self._quick.timed, call_predict, self.model, kwargs)

    async def _run_batch(self, batch: list[Mapping[str, Any]]) -> Sequence[Any]:
        outputs: Sequence[Any] = await self._threads.run(
            call_guarded, self.model, self.model.predict_batch, batch
        )
        return outputs
