"""The executors, by the name ``--predict-executor`` and ``--train-executor`` give.

An executor is one module of the engine with an ``EXECUTOR`` (an ``Executor``),
registered here by name. The registry imports it only when it is asked for, so that
naming the executors (``NAMES``, the options' choices) imports nothing: the Ray
executor imports Ray when it connects or serves, never before.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from deepaas_lite.config import ModelOptions, Settings
    from deepaas_lite.engine.elastic import ElasticThreads
    from deepaas_lite.engine.protocol import JobExecutor, Predictor
    from deepaas_lite.model.wrapper import ModelWrapper

# Its name -> the module holding its EXECUTOR.
_MODULES = {
    "local": "deepaas_lite.engine.local",
    "ray": "deepaas_lite.engine.ray.executor",
}

NAMES = tuple(_MODULES)
DEFAULT = "local"


class Executor(Protocol):
    """Where a model's predictions and the jobs run, and what the server asks of it."""

    name: str

    def connect(self, settings: Settings) -> None:
        """Before serving (once): reach what it runs on; a ``DeepaasError`` saying why
        it cannot."""
        ...

    def close(self) -> None:
        """Once the server has stopped: let go of what ``connect`` reached."""
        ...

    def problem(self) -> str | None:
        """Why it cannot serve now (readiness answers 503 with it); ``None`` when it can."""
        ...

    def predictor(
        self, model: ModelWrapper, options: ModelOptions, threads: ElasticThreads
    ) -> Predictor:
        """What serves ``model``'s predictions, not started yet."""
        ...

    def serving(self, options: ModelOptions) -> str:
        """Where a model's predictions run, for the banner: ``2 worker processes``."""
        ...

    def jobs(self, settings: Settings) -> JobExecutor:
        """What runs the jobs (trainings), as ``settings`` say."""
        ...


def get(name: str) -> Executor:
    """The executor registered as ``name``; ``KeyError`` naming the known ones."""
    try:
        module = _MODULES[name]
    except KeyError:
        raise KeyError(f"no executor {name!r} (known: {', '.join(NAMES)})") from None
    executor: Executor = importlib.import_module(module).EXECUTOR
    return executor


def in_use(settings: Settings) -> list[Executor]:
    """The executors ``settings`` choose, each once (predictions' first)."""
    return [get(name) for name in _unique((settings.predict_executor, settings.train_executor))]


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
