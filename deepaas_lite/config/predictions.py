"""Prediction options: workers, batching, concurrency, queue and time limits.

Each can be set again per model in a ``[model:<id>]`` section (``config/models.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from oslo_config import cfg

from deepaas_lite.config.setting import setting

PREDICT_WORKERS = cfg.IntOpt(
    "predict-workers",
    default=1,
    min=0,
    help="Run predictions in a pool of this many warmed worker processes per "
    "model, each with its own interpreter lock (as DEEPaaS does with its one "
    "worker process). 0 runs them in threads of the server process: for models "
    "whose outputs do not pickle, or whose calls wait on I/O and should run "
    "many at once.",
)
MAX_BATCH_SIZE = cfg.IntOpt(
    "max-batch-size",
    min=1,
    help="For models with predict_batch: group up to this many concurrent "
    "requests into one call. 1 turns batching off. Default: the plugin's "
    "max_batch_size attribute, else 32.",
)
MAX_BATCH_DELAY = cfg.FloatOpt(
    "max-batch-delay",
    min=0,
    help="For models with predict_batch: seconds a batch waits for more "
    "requests after its first one arrives. Default: the plugin's "
    "max_batch_delay attribute, else 0.005.",
)
PREDICT_CONCURRENCY = cfg.IntOpt(
    "predict-concurrency",
    default=32,
    min=1,
    help="Predictions of one model that run at once in threads of the server "
    "(calls whose client has gone count until they end), so that one model's "
    "slow calls cannot take every thread. With predict_workers, the workers are "
    "the limit.",
)
PREDICT_QUEUE_MAX = cfg.IntOpt(
    "predict-queue-max",
    default=128,
    min=0,
    help="Predictions of one model that may wait for a free thread or worker; "
    "beyond them the answer is 503 with Retry-After.",
)
PREDICT_TIMEOUT = cfg.FloatOpt(
    "predict-timeout",
    default=0,
    min=0,
    help="Seconds a prediction may take, waiting included; past them the answer "
    "is 504 and the call's result is discarded (a worker process running it is "
    "replaced). 0 means no limit.",
)

OPTS: list[cfg.Opt] = [
    PREDICT_WORKERS,
    MAX_BATCH_SIZE,
    MAX_BATCH_DELAY,
    PREDICT_CONCURRENCY,
    PREDICT_QUEUE_MAX,
    PREDICT_TIMEOUT,
]


@dataclass(frozen=True)
class PredictionSettings:
    predict_workers: int = setting(PREDICT_WORKERS)
    max_batch_size: int | None = setting(MAX_BATCH_SIZE)  # None: the plugin decides
    max_batch_delay: float | None = setting(MAX_BATCH_DELAY)
    predict_concurrency: int = setting(PREDICT_CONCURRENCY)
    predict_queue_max: int = setting(PREDICT_QUEUE_MAX)
    predict_timeout: float = setting(PREDICT_TIMEOUT)  # 0 is no limit
