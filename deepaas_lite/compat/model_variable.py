"""DEEPaaS's ``DEEPAAS_V2_MODEL`` variable: the model to serve when no ``--model-name`` is given."""

from __future__ import annotations

import os

from oslo_config import cfg

MODEL_ENV = "DEEPAAS_V2_MODEL"


def model_names(conf: cfg.ConfigOpts) -> list[str]:
    """``--model-name`` values, else DEEPaaS's ``DEEPAAS_V2_MODEL`` variable (one name)."""
    names: list[str] = list(conf.model_name)
    if not names and os.environ.get(MODEL_ENV, "").strip():
        names = [os.environ[MODEL_ENV].strip()]
    return names
