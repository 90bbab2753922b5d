"""JSON answers, with numpy-like values (anything with ``tolist()``) made JSON."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def _default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_default)


def json_response(value: Any, status: int = 200, headers: Any = None) -> web.Response:
    return web.Response(
        text=dumps(value),
        status=status,
        headers=headers,
        content_type="application/json",
    )
