"""Calling the plugin, wherever an executor runs it (a thread, a worker process, a
Ray actor, a job's process): an exit from the plugin is an ordinary error, a batch's
outputs that are errors are made fit to cross to the server, and a job's call ends in
an ``Outcome``."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from deepaas_lite import exceptions
from deepaas_lite.engine import wire
from deepaas_lite.engine.protocol import Outcome
from deepaas_lite.model.loading import load_model
from deepaas_lite.model.output import finite
from deepaas_lite.model.wrapper import ModelWrapper

T = TypeVar("T")

# What a worker process or a Ray actor is asked to run.
PREDICT = "predict"
PREDICT_BATCH = "predict_batch"

# Asked of every copy of a model that predicts, with ``[{"version": ...}]``: load that
# version of the model store in the background (``ModelWrapper.start_loading``);
# answers ``(pid, "loaded" | "loading" | "failed: ...")``.
LOAD = "load"

# The kinds of job (``Job.kind``).
TRAINING = "training"


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
        if method == LOAD:
            return True, model.start_loading(payload[0]["version"])
        outputs = call_guarded(model, model.predict_batch, payload)
        if isinstance(outputs, list | tuple):
            outputs = [
                wire.capture(out, model.id) if isinstance(out, BaseException) else out
                for out in outputs
            ]
        return True, outputs
    except Exception as exc:
        return False, wire.capture(exc, model.id)


def run_job(
    model_id: str,
    kind: str,
    arguments: Callable[[], Mapping[str, Any]],
    uuid: str | None = None,
    *,
    load: Callable[[str], ModelWrapper] = load_model,
) -> Outcome:
    """A job's call where the job runs: load the plugin (``load``: it may have been
    loaded ahead), get the arguments, call it. What fails on the way is printed (to the
    job's log) and is the outcome's error. A training writes the model store's version
    ``uuid`` (its ``model_dir()``)."""
    try:
        if kind != TRAINING:
            raise ValueError(f"no job of kind {kind!r}")
        model = load(model_id)
        return Outcome(output=train_to_json(model, arguments(), uuid))
    except BaseException as exc:
        traceback.print_exc()
        return Outcome(error=str(exc) or type(exc).__name__)


def train_to_json(
    model: ModelWrapper, kwargs: Mapping[str, Any], version: str | None = None
) -> str:
    """``train``'s result as JSON text. NaN and Infinity (not JSON) are kept as null,
    and the log says where they were; other values JSON cannot hold become their
    ``str``."""
    output, replaced = finite(model.train(kwargs, version))
    if replaced:
        print(f"deepaas-lite: result stored with null for {', '.join(replaced)}", flush=True)
    return json.dumps(output, default=str)
