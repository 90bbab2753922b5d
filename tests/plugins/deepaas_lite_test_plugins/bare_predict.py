"""A plugin whose predict takes no arguments."""

from __future__ import annotations

from typing import Any


def predict(**kwargs: Any) -> dict[str, Any]:
    return {"kwargs": kwargs}
