"""``[model:<id>]`` sections: one model's own training and prediction options.

Config files only. Each option is its ``[DEFAULT]`` one without a default: unset, the
global value holds (``Settings.options_for``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, fields

from oslo_config import cfg

from deepaas_lite.config import predictions, trainings

MODEL_GROUP_PREFIX = "model:"


def _per_model(opt: cfg.Opt, help: str) -> cfg.Opt:
    """``opt`` for one model's section: same name, type and range, no default."""
    own = copy.copy(opt)
    own.default = None
    own.help = help
    return own


MODEL_OPTS: list[cfg.Opt] = [
    _per_model(
        trainings.TRAIN_TIMEOUT,
        "This model's training time limit in seconds, 0 for none (overrides "
        "[DEFAULT] train_timeout).",
    ),
    _per_model(
        predictions.PREDICT_WORKERS,
        "This model's worker processes (overrides [DEFAULT] predict_workers).",
    ),
    _per_model(
        predictions.MAX_BATCH_SIZE,
        "This model's largest batch (overrides [DEFAULT] max_batch_size).",
    ),
    _per_model(
        predictions.MAX_BATCH_DELAY,
        "This model's batch delay in seconds (overrides [DEFAULT] max_batch_delay).",
    ),
    _per_model(
        predictions.PREDICT_CONCURRENCY,
        "This model's predictions running at once (overrides [DEFAULT] predict_concurrency).",
    ),
    _per_model(
        predictions.PREDICT_QUEUE_MAX,
        "This model's waiting predictions (overrides [DEFAULT] predict_queue_max).",
    ),
    _per_model(
        predictions.PREDICT_TIMEOUT,
        "This model's prediction time limit in seconds, 0 for none (overrides "
        "[DEFAULT] predict_timeout).",
    ),
]


@dataclass(frozen=True)
class ModelOptions:
    """How one model's trainings and predictions run; ``None`` is "not set here".

    Its fields are named as the options of ``MODEL_OPTS`` (and of ``Settings``).
    """

    train_timeout: float | None = None  # 0 is no limit
    predict_workers: int | None = None
    max_batch_size: int | None = None
    max_batch_delay: float | None = None
    predict_concurrency: int | None = None
    predict_queue_max: int | None = None
    predict_timeout: float | None = None  # 0 is no limit


MODEL_FIELDS = tuple(item.name for item in fields(ModelOptions))


def register_model_groups(conf: cfg.ConfigOpts, model_ids: Iterable[str]) -> None:
    """Register a ``[model:<id>]`` section for each model (config-file options only)."""
    for model_id in model_ids:
        conf.register_opts(MODEL_OPTS, group=cfg.OptGroup(MODEL_GROUP_PREFIX + model_id))


def read_model_options(conf: cfg.ConfigOpts, model_ids: Iterable[str]) -> dict[str, ModelOptions]:
    """The sections of ``model_ids`` that set something (registered ones only)."""
    out: dict[str, ModelOptions] = {}
    for model_id in model_ids:
        name = MODEL_GROUP_PREFIX + model_id
        if name not in conf:
            continue
        group = conf[name]
        options = ModelOptions(**{field: group[field] for field in MODEL_FIELDS})
        if options != ModelOptions():
            out[model_id] = options
    return out
