"""Where predictions run: off the event loop, after the model is warmed.

``ThreadPredictor`` runs ``predict`` in a thread pool of the server process: the plugin
is already loaded and warmed there, and a slow ``predict`` never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from deepaas_lite import exceptions
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)


class Predictor(Protocol):
    """Runs one model's predictions."""

    model: ModelWrapper

    @property
    def ready(self) -> bool: ...

    async def start(self, warm: bool) -> None: ...

    async def predict(self, kwargs: Mapping[str, Any]) -> Any: ...

    async def close(self) -> None: ...


def call_predict(model: ModelWrapper, kwargs: Mapping[str, Any]) -> Any:
    """Run the plugin's predict; an exit from the plugin becomes an ordinary error."""
    try:
        return model.predict(kwargs)
    except (SystemExit, KeyboardInterrupt) as exc:
        raise exceptions.PluginFailed(
            f"Model '{model.id}' tried to exit ({type(exc).__name__}: {exc})"
        ) from None


class ThreadPredictor:
    """Predictions in threads of this process."""

    def __init__(self, model: ModelWrapper, executor: ThreadPoolExecutor) -> None:
        self.model = model
        self._executor = executor
        self._warmed = asyncio.Event()
        self._failure: str | None = None

    @property
    def ready(self) -> bool:
        return self._warmed.is_set() and self._failure is None

    async def start(self, warm: bool) -> None:
        """Warm the model (once, in a thread); predictions wait for it."""
        if warm:
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(self._executor, self.model.warm)
            except Exception as exc:
                self._failure = f"Model '{self.model.id}' failed to warm: {exc!r}"
                LOG.error("%s", self._failure)
        self._warmed.set()

    async def predict(self, kwargs: Mapping[str, Any]) -> Any:
        if not self._warmed.is_set():
            await self._warmed.wait()
        if self._failure is not None:
            raise exceptions.ModelNotReady(self._failure)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call_predict, self.model, kwargs)

    async def close(self) -> None:
        return None
