"""Plugins with ``predict_batch``: each output records the size of the batch it came in."""

from __future__ import annotations

import os
import time
from typing import Any

from marshmallow import fields, validate


def _args() -> dict[str, fields.Field]:
    return {
        "x": fields.Int(required=True, validate=validate.Range(min=0, max=1000)),
        "fail": fields.Str(
            load_default="none", validate=validate.OneOf(["none", "one", "all", "length"])
        ),
    }


def _batch(batch: list[dict[str, Any]]) -> list[Any]:
    time.sleep(0.002)  # a fixed cost per call, as vectorised models have
    kinds = {kwargs["fail"] for kwargs in batch}
    if "all" in kinds:
        raise RuntimeError("the whole batch failed")
    outputs: list[Any] = [
        ValueError(f"x={kwargs['x']} is not welcome")
        if kwargs["fail"] == "one"
        else {"x": kwargs["x"], "double": kwargs["x"] * 2, "batch": len(batch), "pid": os.getpid()}
        for kwargs in batch
    ]
    if "length" in kinds:
        outputs.append({"extra": True})
    return outputs


class Batched:
    """``predict`` and ``predict_batch``; its own batch settings as attributes."""

    max_batch_size = 8
    max_batch_delay = 0.05

    def __init__(self) -> None:
        self.batch_calls = 0

    def get_predict_args(self) -> dict[str, fields.Field]:
        return _args()

    def predict(self, **kwargs: Any) -> Any:
        (out,) = _batch([kwargs])
        if isinstance(out, Exception):
            raise out
        return out

    def predict_batch(self, batch: list[dict[str, Any]]) -> list[Any]:
        self.batch_calls += 1
        return _batch(batch)


class BatchOnly:
    """``predict_batch`` and no ``predict``; default batch settings."""

    def get_predict_args(self) -> dict[str, fields.Field]:
        return _args()

    def predict_batch(self, batch: list[dict[str, Any]]) -> list[Any]:
        return _batch(batch)
