"""Training options: where records live, how many run and wait, their limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs
from oslo_config import cfg

from deepaas_lite.config.setting import MIB, setting

DEFAULT_STATE_DIR = platformdirs.user_data_dir("deepaas-lite")


def _expanded(path: str) -> Path:
    return Path(path).expanduser()


def _expanded_or_none(path: str | None) -> Path | None:
    return None if not path else Path(path).expanduser()


STATE_DIR = cfg.StrOpt(
    "state-dir",
    default=DEFAULT_STATE_DIR,
    sample_default="~/.local/share/deepaas-lite",
    help="Directory for training records, logs and training inputs.",
)
TRAIN_WORKERS = cfg.IntOpt(
    "train-workers",
    default=1,
    min=1,
    help="How many trainings run at once; more wait as pending, in order.",
)
TRAIN_HISTORY = cfg.IntOpt(
    "train-history",
    default=100,
    min=1,
    help="Finished training records kept per model; older ones are pruned with their logs.",
)
TRAIN_TIMEOUT = cfg.FloatOpt(
    "train-timeout",
    default=0,
    min=0,
    help="Seconds a training may run; past them its processes are killed and it "
    "ends in error. 0 means no limit.",
)
TRAIN_QUEUE_MAX = cfg.IntOpt(
    "train-queue-max",
    default=100,
    min=0,
    help="Trainings that may wait as pending, over all models; beyond them a new "
    "training is refused with 429 and Retry-After. 0 means no limit.",
)
TRAIN_LOG_MAX_BYTES = cfg.IntOpt(
    "train-log-max-bytes",
    default=50 * MIB,
    min=0,
    help="Largest training log, in bytes: beyond it the log keeps its beginning and "
    "its latest output, with a line saying how much was cut. 0 means no limit.",
)
TRAIN_STANDBY = cfg.BoolOpt(
    "train-standby",
    default=True,
    help="Once a model has trained, keep a training process for its next training "
    "started ahead, its plugin loaded, so that the training starts at once (each "
    "process is used once; local trainings only). --notrain-standby starts each "
    "training's process when the training starts, and keeps no idle process.",
)
MODEL_STORE_DIR = cfg.StrOpt(
    "model-store-dir",
    help="Directory of the model store: the model versions trainings write "
    "(deepaas_lite.model_dir()) and predictions read. On a Ray cluster of several "
    "machines, a directory every node reads and writes under the same path (a shared "
    "file system). Default: models/ in --state-dir.",
)
RESET_STATE = cfg.BoolOpt(
    "reset-state",
    default=False,
    help="At startup, when the training records database cannot be read, move it "
    "aside (trainings.sqlite3.corrupt-<time>) and start a new one, instead of "
    "refusing to start.",
)

OPTS: list[cfg.Opt] = [
    STATE_DIR,
    TRAIN_WORKERS,
    TRAIN_HISTORY,
    TRAIN_TIMEOUT,
    TRAIN_QUEUE_MAX,
    TRAIN_LOG_MAX_BYTES,
    MODEL_STORE_DIR,
    TRAIN_STANDBY,
    RESET_STATE,
]


@dataclass(frozen=True)
class TrainingSettings:
    state_dir: Path = setting(STATE_DIR, _expanded)
    train_workers: int = setting(TRAIN_WORKERS)
    train_history: int = setting(TRAIN_HISTORY)
    train_timeout: float = setting(TRAIN_TIMEOUT)  # 0 is no limit
    train_queue_max: int = setting(TRAIN_QUEUE_MAX)
    train_log_max_bytes: int = setting(TRAIN_LOG_MAX_BYTES)
    train_standby: bool = setting(TRAIN_STANDBY)
    reset_state: bool = setting(RESET_STATE)
    model_store_dir: Path | None = setting(MODEL_STORE_DIR, _expanded_or_none)

    @property
    def model_store(self) -> Path:
        """Where the model store is: ``--model-store-dir``, else ``models/`` in the state."""
        return self.model_store_dir or self.state_dir / "models"
