"""Scenario (b): a plugin that does nothing, to measure the server's own cost."""

from __future__ import annotations

from typing import Any

from marshmallow import fields


def get_metadata() -> dict[str, Any]:
    return {"name": "bench-noop", "description": "returns a constant"}


def get_predict_args() -> dict[str, fields.Field]:
    return {}


def predict(**kwargs: Any) -> dict[str, Any]:
    return {"ok": True}
