"""A model's JSON output as text, with numpy-like values (anything with ``tolist()``)."""

from __future__ import annotations

import json
from typing import Any


def _default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """``value`` as JSON; arrays and numpy scalars become lists and numbers."""
    return json.dumps(value, default=_default)
