"""Scenario (d): the IRIS SVC with ``predict_batch`` for adaptive batching.

``predict`` stays for servers without batching (DEEPaaS 2.6.0, or deepaas-lite with
batching off); ``predict_batch`` classifies many requests in one vectorised call.
"""

from __future__ import annotations

from typing import Any

from deepaas_bench_plugins import _iris
from deepaas_bench_plugins.svc import get_predict_args, predict, warm

__all__ = ["get_metadata", "get_predict_args", "predict", "predict_batch", "warm"]


def get_metadata() -> dict[str, Any]:
    return {"name": "bench-svc-batch", "description": "IRIS SVC with predict_batch"}


def predict_batch(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _iris.classify([kwargs["data"] for kwargs in batch])
