"""Prediction job options: how many run and wait, what is kept, and where webhooks may go.

A prediction submitted with ``Prefer: respond-async`` is a job (``predictions/``); it
runs on its model's predictor, so the prediction options' limits apply to it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from oslo_config import cfg

from deepaas_lite.config.setting import MIB, setting

PREDICT_JOBS_WORKERS = cfg.IntOpt(
    "predict-jobs-workers",
    default=4,
    min=1,
    help="Prediction jobs (Prefer: respond-async) that run at once, over all models; "
    "each runs on its model's predictor, within that model's limits.",
)
PREDICT_JOBS_MAX = cfg.IntOpt(
    "predict-jobs-max",
    default=100,
    min=0,
    help="Prediction jobs that may wait, over all models; beyond them a new one is "
    "answered 429 with Retry-After. 0 means no limit.",
)
PREDICTION_HISTORY = cfg.IntOpt(
    "prediction-history",
    default=100,
    min=1,
    help="Ended prediction jobs kept per model, with their outputs; older ones are removed.",
)
PREDICTION_OUTPUT_MAX_BYTES = cfg.IntOpt(
    "prediction-output-max-bytes",
    default=16 * MIB,
    min=1,
    help="The largest output a prediction job keeps, in bytes; a larger one ends the job in error.",
)
WEBHOOK_ALLOWED_HOST = cfg.MultiStrOpt(
    "webhook-allowed-host",
    default=[],
    help="A host (a name, or name:port) that a prediction job's Callback-URL may "
    "name; repeat for several. Default: none, and webhooks are off.",
)
WEBHOOK_SECRET_FILE = cfg.StrOpt(
    "webhook-secret-file",
    help="A file holding the secret that signs webhooks (HMAC-SHA256, as Standard "
    "Webhooks do: whsec_<base64>, or any other text). Needed with "
    "--webhook-allowed-host.",
)

OPTS: list[cfg.Opt] = [
    PREDICT_JOBS_WORKERS,
    PREDICT_JOBS_MAX,
    PREDICTION_HISTORY,
    PREDICTION_OUTPUT_MAX_BYTES,
    WEBHOOK_ALLOWED_HOST,
    WEBHOOK_SECRET_FILE,
]


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


@dataclass(frozen=True)
class JobSettings:
    predict_jobs_workers: int = setting(PREDICT_JOBS_WORKERS)
    predict_jobs_max: int = setting(PREDICT_JOBS_MAX)
    prediction_history: int = setting(PREDICTION_HISTORY)
    prediction_output_max_bytes: int = setting(PREDICTION_OUTPUT_MAX_BYTES)
    webhook_allowed_hosts: tuple[str, ...] = setting(WEBHOOK_ALLOWED_HOST, tuple)
    webhook_secret_file: Path | None = setting(WEBHOOK_SECRET_FILE, _path_or_none)
