"""What the server asks of an executor: a ``Predictor`` for each model's predictions,
a ``TrainingExecutor`` for the trainings (each one a ``TrainingRun``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from deepaas_lite.model.wrapper import ModelWrapper


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


class TrainingRun(Protocol):
    """One training where an executor runs it.

    It reads its arguments from the store, writes what the training prints to its
    log pipe, and stores its progress and outcome (``Store.save_outcome``) there; one
    that ends without an outcome is described by ``TrainingExecutor.describe_exit``.
    """

    uuid: str

    def start(self) -> None:
        """Start it (on the running event loop); raises when it cannot start."""
        ...

    async def wait(self) -> int:
        """Once it has ended: its exit code (``-N``: ended by signal N)."""
        ...

    async def stop(self) -> None:
        """End it, gently first, then by force; returns once it has ended."""
        ...

    def kill(self) -> None:
        """End it by force now, without waiting (when there is no time to wait)."""
        ...


class TrainingExecutor(Protocol):
    """Where trainings run: local processes or a Ray cluster."""

    def run(self, db_path: Path, model: ModelWrapper, uuid: str, log_fd: int) -> TrainingRun:
        """The training ``uuid`` of ``model``, stored in the store at ``db_path``, not
        started yet. ``log_fd`` is the write end of its log pipe; the caller closes its
        own copy once ``start`` has returned."""
        ...

    def describe_exit(self, exitcode: int) -> str:
        """Why a training that ended with ``exitcode`` stored no outcome."""
        ...
