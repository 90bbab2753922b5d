"""The Ray executor (``--predict-executor ray``, ``--train-executor ray``): predictions
in Ray actors (``predictor.py``), each job a Ray task (``jobs.py``), on the cluster
this server connects to at startup (``cluster.py``).

Importing this module does not import Ray: connecting, or building what runs on the
cluster, does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deepaas_lite.engine.batching import policy_for
from deepaas_lite.engine.limits import limits_of
from deepaas_lite.engine.ray import cluster

if TYPE_CHECKING:
    from deepaas_lite.config import ModelOptions, Settings
    from deepaas_lite.engine.elastic import ElasticThreads
    from deepaas_lite.engine.protocol import JobExecutor, Predictor
    from deepaas_lite.model.wrapper import ModelWrapper


class RayExecutor:
    name = "ray"

    def connect(self, settings: Settings) -> None:
        """Join the cluster; ``ExecutorUnavailable`` when it cannot be reached."""
        cluster.connect(settings.ray)

    def close(self) -> None:
        cluster.disconnect()

    def problem(self) -> str | None:
        return cluster.problem()

    def predictor(
        self, model: ModelWrapper, options: ModelOptions, threads: ElasticThreads
    ) -> Predictor:
        from deepaas_lite.engine.ray.predictor import RayPredictor  # imports Ray

        batch = policy_for(model, options.max_batch_size, options.max_batch_delay)
        return RayPredictor(model, _actors(options), batch, limits_of(options))

    def serving(self, options: ModelOptions) -> str:
        actors = _actors(options)
        return f"{actors} Ray actor{'s' if actors > 1 else ''}"

    def jobs(self, settings: Settings) -> JobExecutor:
        from deepaas_lite.engine.ray.jobs import RayJobs  # imports Ray

        return RayJobs()


def _actors(options: ModelOptions) -> int:
    return options.predict_workers or 1


EXECUTOR = RayExecutor()
