"""JSON answers, with numpy-like values (anything with ``tolist()``) made JSON."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas_lite.model.output import encode


def json_response(value: Any, status: int = 200, headers: Any = None) -> web.Response:
    return web.Response(
        body=encode(value),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )
