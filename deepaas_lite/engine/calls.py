"""Calling the plugin, wherever an executor runs it (a thread, a worker process, a
Ray actor): an exit from the plugin is an ordinary error, and a batch's outputs that
are errors are made fit to cross to the server."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from deepaas_lite import exceptions
from deepaas_lite.engine import wire
from deepaas_lite.model.wrapper import ModelWrapper

T = TypeVar("T")

# What a worker process or a Ray actor is asked to run.
PREDICT = "predict"
PREDICT_BATCH = "predict_batch"


def call_guarded(model: ModelWrapper, func: Callable[[T], Any], arg: T) -> Any:
    """Call the plugin; an exit from the plugin becomes an ordinary error."""
    try:
        return func(arg)
    except (SystemExit, KeyboardInterrupt) as exc:
        raise exceptions.PluginFailed(
            f"Model '{model.id}' tried to exit ({type(exc).__name__}: {exc})"
        ) from None


def warm_model(model: ModelWrapper) -> None:
    model.warm()


def call_predict(model: ModelWrapper, kwargs: Mapping[str, Any]) -> Any:
    """Run the plugin's predict; an exit from the plugin becomes an ordinary error."""
    return call_guarded(model, model.predict, kwargs)


def answer(model: ModelWrapper, method: str, payload: Any) -> tuple[bool, Any]:
    """``(True, output)`` or ``(False, error)`` for a call made from the server, errors
    (also a batch's outputs that are errors) as ``wire.capture`` sends them."""
    try:
        if method == PREDICT:
            return True, call_guarded(model, model.predict, payload)
        outputs = call_guarded(model, model.predict_batch, payload)
        if isinstance(outputs, list | tuple):
            outputs = [
                wire.capture(out, model.id) if isinstance(out, BaseException) else out
                for out in outputs
            ]
        return True, outputs
    except Exception as exc:
        return False, wire.capture(exc, model.id)
