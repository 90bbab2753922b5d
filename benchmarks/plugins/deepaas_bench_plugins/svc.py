"""Scenario (a): a cached scikit-learn SVC on IRIS, one flower per request."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from deepaas_bench_plugins import _iris


def get_metadata() -> dict[str, Any]:
    return {"name": "bench-svc", "description": "IRIS SVC, one row per call"}


def get_predict_args() -> dict[str, fields.Field]:
    return _iris.predict_args()


def warm() -> None:
    _iris.model()


def predict(**kwargs: Any) -> dict[str, Any]:
    return _iris.classify([kwargs["data"]])[0]
