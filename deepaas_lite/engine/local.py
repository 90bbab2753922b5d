"""The local executor: predictions in threads of the server (``threads.py``) or in
``--predict-workers`` worker processes (``processes/predictor.py``), each job in a
process of its own (``processes/jobs.py``; with ``--train-standby``, started ahead).
It has nothing to connect to."""

from __future__ import annotations

from deepaas_lite.config import ModelOptions, Settings
from deepaas_lite.engine.batching import policy_for
from deepaas_lite.engine.elastic import ElasticThreads
from deepaas_lite.engine.limits import limits_of
from deepaas_lite.engine.processes.jobs import LocalJobs
from deepaas_lite.engine.processes.predictor import ProcessPredictor
from deepaas_lite.engine.protocol import JobExecutor, Predictor
from deepaas_lite.engine.threads import ThreadPredictor
from deepaas_lite.model.wrapper import ModelWrapper


class LocalExecutor:
    name = "local"

    def connect(self, settings: Settings) -> None:
        pass

    def close(self) -> None:
        pass

    def problem(self) -> str | None:
        return None

    def predictor(
        self, model: ModelWrapper, options: ModelOptions, threads: ElasticThreads
    ) -> Predictor:
        batch = policy_for(model, options.max_batch_size, options.max_batch_delay)
        if options.predict_workers:
            return ProcessPredictor(model, options.predict_workers, batch, limits_of(options))
        return ThreadPredictor(model, threads, batch, limits_of(options))

    def serving(self, options: ModelOptions) -> str:
        workers = options.predict_workers or 0
        if not workers:
            return "threads"
        return f"{workers} worker process{'es' if workers > 1 else ''}"

    def jobs(self, settings: Settings) -> JobExecutor:
        return LocalJobs(standby=settings.train_standby)


EXECUTOR = LocalExecutor()
