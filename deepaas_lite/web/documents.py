"""Serves ``GET /openapi.json`` (OpenAPI 3) and ``/swagger.json`` (Swagger 2.0).

Both are built once at start-up (``openapi/openapi3.py``, ``openapi/swagger2.py``).
"""

from __future__ import annotations

from aiohttp import web

from deepaas_lite.web.keys import SPEC, SWAGGER


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[SPEC], content_type="application/json")


async def swagger(request: web.Request) -> web.Response:
    return web.Response(body=request.app[SWAGGER], content_type="application/json")
