"""Which executor serves a model (threads, worker processes or Ray actors, batched or
not), and which runs the trainings (local processes or Ray tasks)."""

from __future__ import annotations

from collections.abc import Iterable

from deepaas_lite.config import ModelOptions
from deepaas_lite.engine.batching import policy_for
from deepaas_lite.engine.elastic import ElasticThreads
from deepaas_lite.engine.limits import DEFAULT_CONCURRENCY, DEFAULT_QUEUE_MAX, Limits
from deepaas_lite.engine.processes.predictor import ProcessPredictor
from deepaas_lite.engine.processes.training import LocalTrainings
from deepaas_lite.engine.protocol import Predictor, TrainingExecutor
from deepaas_lite.engine.threads import ThreadPredictor
from deepaas_lite.model.wrapper import ModelWrapper


def build_predictor(
    model: ModelWrapper, options: ModelOptions, threads: ElasticThreads, executor: str = "local"
) -> Predictor:
    """``options`` as ``Settings.options_for`` resolves them for ``model``."""
    batch = policy_for(model, options.max_batch_size, options.max_batch_delay)
    limits = limits_of(options)
    if executor == "ray":
        from deepaas_lite.engine.ray.predictor import RayPredictor  # imports Ray: only when chosen

        return RayPredictor(model, options.predict_workers or 1, batch, limits)
    if options.predict_workers:
        return ProcessPredictor(model, options.predict_workers, batch, limits)
    return ThreadPredictor(model, threads, batch, limits)


def training_executor(executor: str = "local") -> TrainingExecutor:
    """What runs the trainings: ``local`` processes or ``ray`` tasks."""
    if executor == "ray":
        from deepaas_lite.engine.ray.training import RayTrainings  # imports Ray: only when chosen

        return RayTrainings()
    return LocalTrainings()


def limits_of(options: ModelOptions) -> Limits:
    return Limits(
        concurrency=_or(options.predict_concurrency, DEFAULT_CONCURRENCY),
        queue_max=_or(options.predict_queue_max, DEFAULT_QUEUE_MAX),
        timeout=options.predict_timeout or None,
    )


def thread_budget(options: Iterable[ModelOptions]) -> int:
    """Threads enough for every threaded model to use all its slots at once, so that
    no model waits for a thread that another model's slow calls hold."""
    return max(
        1,
        sum(limits_of(o).concurrency for o in options if not o.predict_workers),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
