"""Which ``Predictor`` serves a model: threads or worker processes, batched or not."""

from __future__ import annotations

from deepaas_lite.config import ModelOptions
from deepaas_lite.model.batching import policy_for
from deepaas_lite.model.pool import ProcessPredictor
from deepaas_lite.model.predictor import Predictor, ThreadPredictor
from deepaas_lite.model.threads import ElasticThreads
from deepaas_lite.model.wrapper import ModelWrapper


def build_predictor(
    model: ModelWrapper, options: ModelOptions, threads: ElasticThreads
) -> Predictor:
    """``options`` as ``Settings.options_for`` resolves them for ``model``."""
    batch = policy_for(model, options.max_batch_size, options.max_batch_delay)
    if options.predict_workers:
        return ProcessPredictor(model, options.predict_workers, batch)
    return ThreadPredictor(model, threads, batch)
