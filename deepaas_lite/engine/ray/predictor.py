"""Predictions from Ray actors (``--predict-executor ray``): a ``Predictor``.

A model gets ``--predict-workers`` actors (at least one), spread over the cluster's
nodes, each asking for ``--ray-predict-resources``. Each loads the plugin and warms
it once; the model is ready once they all have answered. A request goes to an idle
actor and is awaited on the event loop. An actor that dies fails only the call it
was running (a 500 error); Ray starts it again (warming it again), and one that
cannot come back is replaced by a new actor. A model without ``predict`` gets none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import ray
import ray.exceptions

from deepaas_lite import exceptions
from deepaas_lite.engine import calls
from deepaas_lite.engine.base import PoolPredictor
from deepaas_lite.engine.batching import BatchPolicy
from deepaas_lite.engine.limits import DEFAULT_LIMITS, Limits
from deepaas_lite.engine.ray import cluster, files, remote
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

# Seconds between attempts to bring a model's actors back once all have failed.
RETRY_DELAY = 5.0

_ACTOR: Any = ray.remote(remote.ModelActor)


class RayPredictor(PoolPredictor):
    """Predictions of one model in ``workers`` Ray actors."""

    def __init__(
        self,
        model: ModelWrapper,
        workers: int,
        batch: BatchPolicy | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        # A model without predict (train only) takes nothing from the cluster.
        super().__init__(model, max(1, workers) if model.can_predict else 0, batch, limits)
        self._cluster = cluster.current()
        self._warm = True
        self._serving: set[Any] = set()  # live actors, idle or busy
        self._idle: asyncio.Queue[Any] = asyncio.Queue()
        self._started = False
        self._failure: str | None = None

    @property
    def ready(self) -> bool:
        return self.reason is None

    @property
    def reason(self) -> str | None:
        if self._failure is not None:
            return self._failure
        if not self._started:
            return "starting its Ray actors"
        problem = self._cluster.problem
        if problem is not None:
            return problem
        return None if self._serving or not self.size else "replacing its Ray actors"

    async def start(self, warm: bool) -> None:
        """Create the actors; ready once every one of them has loaded and warmed."""
        self._warm = warm
        started = await asyncio.gather(*(self._new_actor() for _ in range(self.size)))
        for actor in started:
            if actor is not None:
                self._serve(actor)
        if self.size and not self._serving:
            self._failure = f"Model '{self.model.id}': no Ray predict actor could start"
            LOG.error("%s", self._failure)
        self._started = True

    async def close(self) -> None:
        await super().close()
        for actor in list(self._serving):
            with contextlib.suppress(Exception):
                ray.kill(actor)
        self._serving.clear()

    async def _call(self, method: str, payload: Any) -> tuple[bool, Any]:
        requests = [payload] if method == calls.PREDICT else payload
        contents: files.Contents = {}
        if any(files.has_files(kwargs) for kwargs in requests):
            for kwargs in requests:
                contents.update(await asyncio.to_thread(files.pack, kwargs))
        actor = await self._acquire()
        # Shielded: a request that goes away leaves the actor busy until its call ends.
        exchange = asyncio.ensure_future(self._exchange(actor, method, payload, contents))
        result: tuple[bool, Any] = await asyncio.shield(exchange)
        return result

    async def _acquire(self) -> Any:
        while True:
            if self._failure is not None:
                raise exceptions.ModelNotReady(self._failure)
            actor = await self._idle.get()
            if actor in self._serving:
                return actor

    async def _exchange(
        self, actor: Any, method: str, payload: Any, contents: files.Contents
    ) -> tuple[bool, Any]:
        try:
            answer: tuple[bool, Any] = await actor.call.remote(method, payload, contents)
        except ray.exceptions.RayActorError as exc:
            self._track(self._revive(actor))
            raise exceptions.PluginFailed(
                f"Ray actor of model '{self.model.id}' died while predicting: {_first_line(exc)}"
            ) from None
        except ray.exceptions.RayError as exc:
            self._idle.put_nowait(actor)
            raise exceptions.PluginFailed(
                f"Ray failed to run a prediction of model '{self.model.id}': {_first_line(exc)}"
            ) from None
        self._idle.put_nowait(actor)
        return answer

    async def _new_actor(self) -> Any:
        """A new actor, once it has loaded and warmed; ``None`` if it could not."""
        actor = _ACTOR.options(
            scheduling_strategy="SPREAD",
            max_restarts=-1,
            max_task_retries=0,
            **cluster.ray_options(self._cluster.predict_resources),
        ).remote(self.model.id, self._warm)
        try:
            await actor.ready.remote()
        except ray.exceptions.RayError as exc:
            LOG.error(
                "Model '%s': a Ray predict actor failed to start: %s",
                self.model.id,
                _first_line(exc),
            )
            with contextlib.suppress(Exception):
                ray.kill(actor)
            return None
        return actor

    def _serve(self, actor: Any) -> None:
        self._serving.add(actor)
        self._idle.put_nowait(actor)

    async def _revive(self, actor: Any) -> None:
        """An actor's call failed as it died: serve it again once Ray has restarted it,
        or a new one in its place."""
        self._serving.discard(actor)
        try:
            await actor.ready.remote()
        except ray.exceptions.RayError:
            with contextlib.suppress(Exception):
                ray.kill(actor)
            LOG.error("Model '%s': a Ray predict actor is gone; starting another", self.model.id)
            actor = None
            while actor is None and not self._closing:
                actor = await self._new_actor()
                if actor is None:
                    await asyncio.sleep(RETRY_DELAY)
        if actor is not None:
            if self._closing:
                ray.kill(actor)
            else:
                self._serve(actor)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
