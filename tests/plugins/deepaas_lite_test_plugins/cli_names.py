"""A plugin whose argument names are prefixes of deepaas-cli's own options.

``--mode``, ``--model`` and ``--mod`` must reach the plugin, never be taken for
``--model-name``. Its ``text/plain`` answer is a line of text, to check that text is
written raw; ``train`` reports progress.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

import deepaas_lite


def get_predict_args() -> dict[str, fields.Field]:
    return {
        "mode": fields.Str(
            load_default="fast",
            validate=validate.OneOf(["fast", "slow"]),
            metadata={"description": "How to run"},
        ),
        "model": fields.Str(required=True, metadata={"description": "Which weights"}),
        "mod": fields.Int(load_default=7, metadata={"description": "A modulus"}),
        "accept": fields.Str(
            load_default="application/json",
            validate=validate.OneOf(["application/json", "text/plain"]),
        ),
    }


def predict(mode: str, model: str, mod: int, accept: str) -> Any:
    out = {"mode": mode, "model": model, "mod": mod}
    if accept == "text/plain":
        return f"mode={mode} model={model} mod={mod}\n"
    return out


def get_train_args() -> dict[str, fields.Field]:
    return {"model": fields.Str(load_default="base")}


def train(model: str) -> Any:
    deepaas_lite.report_progress(0.5, f"training {model}")
    deepaas_lite.report_progress(1.0, "done")
    return {"model": model, "text": "a result"}
