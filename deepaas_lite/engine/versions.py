"""Bringing every copy of a model that predicts to its current version, in the background.

When a model's current version changes (a training ended ``done``, an older version was
made current again), each copy of the plugin that predicts loads it in a thread of its
own process (``ModelWrapper.start_loading``: the plugin's ``load(path)``, else ``warm()``)
while it goes on answering with the previous version: the server's own copy for
threads, each worker process, each Ray actor. A pool's workers are asked through the
pool, as predictions are (``calls.LOAD``), until each of them answers that it serves the
version. Then the server's copy of the model says it serves that version (readiness and
the model's description show it). No request waits for a load, but one: while a copy
serves no version at all, a prediction its plugin refuses as not ready waits for the
first one (``ModelWrapper.predict``) instead of answering 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.engine import calls, heap
from deepaas_lite.engine.base import PoolPredictor
from deepaas_lite.engine.protocol import Predictor

LOG = logging.getLogger(__name__)

# Seconds between two rounds of asking the copies how their load goes.
POLL = 0.05
LOADED = "loaded"


class Switcher:
    """Switches the models' predictors to new versions, one task per model."""

    def __init__(self, predictors: Mapping[str, Predictor]) -> None:
        self._predictors = predictors
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def switch(self, model_id: str, version: str | None) -> None:
        """Start bringing ``model_id``'s predictor to ``version`` (a newer call wins)."""
        if model_id not in self._predictors:
            return
        previous = self._tasks.get(model_id)
        if previous is not None:
            previous.cancel()
        self._tasks[model_id] = asyncio.create_task(
            self._switch(model_id, version), name=f"switch {model_id} to {version}"
        )

    async def wait(self, model_id: str) -> None:
        """Until the model's last switch has ended (tests, startup)."""
        task = self._tasks.get(model_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _switch(self, model_id: str, version: str | None) -> None:
        predictor = self._predictors[model_id]
        previous = predictor.model.version
        try:
            failure = await _until_loaded(predictor, version)
            if failure is None:
                predictor.model.load_failure = None
                predictor.model.mark_served(version)
                LOG.info("Model '%s' serves version %s", model_id, version)
                if not isinstance(predictor, PoolPredictor):  # loaded in this process
                    heap.settle(f"model '{model_id}' loaded version {version}")
                return
            predictor.model.load_failure = (version, failure)
            LOG.error(
                "Model '%s': version %s could not be loaded (%s); version %s goes on serving",
                model_id,
                version,
                failure,
                previous,
            )
            # Copies that did load it go back, so that every copy answers alike.
            if previous != version:
                await _until_loaded(predictor, previous)
        except asyncio.CancelledError:
            raise
        except exceptions.ModelNotReady as exc:
            LOG.warning("Model '%s': not switched to version %s: %s", model_id, version, exc)
        except Exception:
            LOG.exception("Model '%s': switching to version %s failed", model_id, version)


async def _until_loaded(predictor: Predictor, version: str | None) -> str | None:
    """Ask every copy to load ``version`` until all serve it (``None``) or one cannot
    (why)."""
    while True:
        states = await _ask(predictor, version)
        failed = [state for state in states if state.startswith("failed")]
        if failed:
            return failed[0].removeprefix("failed: ")
        if states and all(state == LOADED for state in states):
            return None
        await asyncio.sleep(POLL)


async def _ask(predictor: Predictor, version: str | None) -> list[str]:
    """How each copy of the model is doing with ``version`` (asking starts its load)."""
    if not isinstance(predictor, PoolPredictor):
        _, state = predictor.model.start_loading(version)
        return [state]
    expected = _pool_size(predictor)
    seen: dict[int, str] = {}
    # Each call reaches an idle worker; a few rounds reach them all.
    for _ in range(4 * max(1, expected)):
        # Shielded: a switch cancelled by a newer one must not abandon the call, which
        # would retire the worker answering it (a load request is harmless to finish).
        ok, answer = await asyncio.shield(predictor._call(calls.LOAD, [{"version": version}]))
        if not ok:
            raise RuntimeError(f"a worker could not be asked to load: {answer!r}")
        pid, state = answer
        seen[int(pid)] = str(state)
        if len(seen) >= expected:
            break
    pids = _pool_pids(predictor)
    if pids is not None:
        return [seen.get(pid, "unknown") for pid in pids]
    return list(seen.values()) if len(seen) >= expected else [*seen.values(), "unknown"]


def _pool_size(predictor: PoolPredictor) -> int:
    pids = _pool_pids(predictor)
    if pids is not None:
        return len(pids)
    serving: Any = getattr(predictor, "_serving", ())
    return max(1, len(serving))


def _pool_pids(predictor: PoolPredictor) -> list[int] | None:
    """The worker processes' ids, for a pool that knows them (local processes)."""
    pids = getattr(predictor, "pids", None)
    return None if pids is None else list(pids)
