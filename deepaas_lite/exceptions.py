"""The core's errors. They carry meaning, not HTTP: ``http_errors.py`` gives each its status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DeepaasError(Exception):
    """Base of every error the core raises on purpose.

    ``retry_after``: when a limit was reached, a hint in seconds to try again after.
    """

    retry_after: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ModelNotFound(DeepaasError):
    """No model is served under that id."""


class VersionNotFound(ModelNotFound):
    """The model is served, but not in that version."""


class VersionInUse(DeepaasError):
    """The model version is current: it cannot be removed (make another current first)."""


class TrainingNotFound(DeepaasError):
    """No training of that model has that uuid."""


class EndpointDisabled(DeepaasError):
    """The operator turned this endpoint off (``--nopredict-endpoint`` and the like)."""


class InvalidArguments(DeepaasError):
    """Arguments failed validation; ``errors`` maps field names to messages."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__("Invalid arguments: " + ", ".join(map(str, errors)))
        self.errors = dict(errors)


class InvalidInputs(DeepaasError):
    """An inference request (Open Inference Protocol) does not fit the model's inputs."""


class MalformedBody(DeepaasError):
    """The request body could not be decoded (bad JSON, bad form)."""


class NotAcceptable(DeepaasError):
    """The client accepts no media type the model can produce."""


class UnsupportedMediaType(DeepaasError):
    """The request body is of a type no argument is read from."""


class NotImplementedByModel(DeepaasError):
    """The plugin has no ``predict`` or ``train``."""


class PluginFailed(DeepaasError):
    """The plugin raised while serving a call; the message is the plugin's."""


class InvalidResponse(DeepaasError):
    """The plugin's output does not match its declared response schema."""


class TrainingFinished(DeepaasError):
    """The training has already ended, so it cannot be cancelled."""


class ModelLoadError(DeepaasError):
    """A plugin could not be loaded (import failure, broken argument schema)."""


class UnknownModelNames(DeepaasError):
    """``--model-name`` named models that are not installed."""


class ModelNotReady(DeepaasError):
    """The model cannot answer yet: its ``warm()`` failed, or the plugin says so.

    Plugins raise it as ``deepaas_lite.ModelNotReady("one line for the client")``, e.g.
    before any training produced a model: a state of the model, not a failure.
    """


class ModelBusy(DeepaasError):
    """A model's queue of waiting predictions is full; ``retry_after`` is a hint in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PredictTimeout(DeepaasError):
    """A prediction did not end within its model's time limit."""


class TrainingQueueFull(DeepaasError):
    """Too many trainings are waiting; ``retry_after`` is a hint in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageFailed(DeepaasError):
    """The state directory could not be written (disk full, permissions)."""


class StateUnusable(DeepaasError):
    """At startup: the state directory or the records database cannot be used."""


class ExecutorUnavailable(DeepaasError):
    """An executor cannot run work: its options are wrong, its cluster cannot be reached,
    or no node of it has what a job asks for."""


class PredictionJobNotFound(DeepaasError):
    """No prediction job of that model has that uuid."""


class PredictionJobFinished(DeepaasError):
    """The prediction job has already ended, so it cannot be cancelled."""


class PredictionJobQueueFull(DeepaasError):
    """Too many prediction jobs are waiting; ``retry_after`` is a hint in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NoOutput(DeepaasError):
    """The prediction job has no output: it has not ended yet, or ended without one."""
