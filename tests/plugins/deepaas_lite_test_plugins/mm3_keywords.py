"""A DEEPaaS-era plugin: marshmallow 3 keyword metadata (loads under marshmallow 3 only)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate


def get_predict_args() -> dict[str, fields.Field]:
    return {
        "data": fields.Field(
            required=True,
            type="file",
            location="form",
            description="Data file to process",
        ),
        "threshold": fields.Float(
            missing=0.5,
            description="Decision threshold",
            validate=validate.Range(min=0, max=1),
        ),
    }


def predict(**kwargs: Any) -> dict[str, Any]:
    with open(kwargs["data"].filename, "rb") as f:
        size = len(f.read())
    return {"size": size, "threshold": kwargs["threshold"]}
