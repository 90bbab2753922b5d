"""What the server asks of an executor: a ``Predictor`` for each model's predictions,
a ``TrainingExecutor`` for the trainings (each one a ``TrainingRun``)."""

from __future__ import annotations

from collections.abc import Mapping
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
