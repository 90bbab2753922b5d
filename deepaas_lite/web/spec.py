"""``GET /swagger.json`` and ``/openapi.json``: the document built at start-up."""

from __future__ import annotations

from aiohttp import web

from deepaas_lite.web.keys import SPEC


async def document(request: web.Request) -> web.Response:
    return web.Response(body=request.app[SPEC], content_type="application/json")
