"""Swagger UI at ``/ui`` (``/api`` redirects there), its assets from swagger-ui-bundle."""

from __future__ import annotations

import html
from pathlib import Path

import swagger_ui_bundle
from aiohttp import web

from deepaas_lite.web.keys import SETTINGS

ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
STATIC = "/ui/static"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>deepaas-lite API</title>
  <link rel="stylesheet" href="{static}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{static}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{static}/swagger-ui-bundle.js"></script>
  <script src="{static}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{spec}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      validatorUrl: null
    }});
  </script>
</body>
</html>
"""


def add_static(app: web.Application, base_path: str) -> None:
    app.router.add_static(base_path + STATIC, ASSETS, append_version=False)


async def page(request: web.Request) -> web.Response:
    base = request.app[SETTINGS].base_path
    body = _PAGE.format(static=html.escape(base + STATIC), spec=html.escape(base + "/openapi.json"))
    return web.Response(text=body, content_type="text/html")


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.app[SETTINGS].base_path + "/ui")
