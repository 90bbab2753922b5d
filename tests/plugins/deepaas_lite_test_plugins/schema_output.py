"""A plugin with a response ``schema``: the body is its validated output."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate


class Prediction(Schema):
    label = fields.Str(required=True, metadata={"description": "The label"})
    probability = fields.Float(required=True, validate=validate.Range(min=0, max=1))


schema = Prediction


def get_predict_args() -> dict[str, fields.Field]:
    return {"valid": fields.Bool(load_default=True)}


def predict(valid: bool) -> dict[str, Any]:
    if valid:
        return {"label": "cat", "probability": 0.9}
    return {"label": "cat", "probability": 7}
