"""A plugin whose ``get_metadata()`` holds NaN and Infinity (not JSON); it predicts fine."""

from __future__ import annotations

import math
from typing import Any


def get_metadata() -> dict[str, Any]:
    return {
        "name": "metadata-not-finite",
        "description": "Metrics that are not all numbers",
        "accuracy": math.nan,
        "scores": {"loss": math.inf, "f1": [0.5, -math.inf]},
    }


def predict(**kwargs: Any) -> dict[str, Any]:
    return {"ok": True}
