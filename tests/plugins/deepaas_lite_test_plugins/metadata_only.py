"""A plugin that only describes itself (DEEPaaS's metadata-only modules)."""

from __future__ import annotations

from typing import Any


def get_metadata() -> dict[str, Any]:
    return {"name": "metadata-only", "description": "Only metadata", "version": "1.0"}
