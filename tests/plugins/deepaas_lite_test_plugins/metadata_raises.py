"""A plugin whose ``get_metadata()`` raises; it predicts fine."""

from __future__ import annotations

from typing import Any


def get_metadata() -> dict[str, Any]:
    raise RuntimeError("metadata.json is missing")


def predict(**kwargs: Any) -> dict[str, Any]:
    return {"ok": True}
