"""A plugin that raises: a plain exception, or an aiohttp HTTP exception."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from marshmallow import fields, validate


def get_predict_args() -> dict[str, fields.Field]:
    return {"kind": fields.Str(required=True, validate=validate.OneOf(["value", "http", "exit"]))}


def predict(kind: str) -> Any:
    if kind == "value":
        raise ValueError("the plugin says no")
    if kind == "http":
        raise web.HTTPPaymentRequired(reason="Pay first")
    raise SystemExit(3)


def train(**kwargs: Any) -> Any:
    raise RuntimeError("training exploded")
