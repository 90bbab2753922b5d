"""Scenario (c): about 5 ms of pure-Python work per call (it holds the GIL).

The amount of work is fixed (``BENCH_CPU_ITERATIONS``, default 75 000 iterations,
about 5 ms on the reference machine) rather than timed, so that two workers sharing
a core cannot look faster than they are.
"""

from __future__ import annotations

import os
from typing import Any

from marshmallow import fields

ITERATIONS = int(os.environ.get("BENCH_CPU_ITERATIONS", "75000"))


def get_metadata() -> dict[str, Any]:
    return {"name": "bench-cpu", "description": "about 5 ms of pure Python"}


def get_predict_args() -> dict[str, fields.Field]:
    return {}


def burn(iterations: int = ITERATIONS) -> int:
    acc = 0
    for i in range(iterations):
        acc = (acc * 31 + i) % 1000003
    return acc


def predict(**kwargs: Any) -> dict[str, Any]:
    return {"checksum": burn()}
