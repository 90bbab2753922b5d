"""The web app for people at ``/app``: one HTML page and its two local assets.

Everything the app shows it reads from the documented API (the models, ``/openapi.json``
for the argument schemas, the training records and their logs), from the browser, with
the user's token if the server asks for one. This module only serves the page, its
script and its style sheet (shipped in the package, ``web/static/``), and tells a
browser that opens ``/`` to go there.
"""

from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

from deepaas_lite.web.keys import SETTINGS

STATIC = Path(__file__).with_name("static")
ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}
"""The files ``/app/static/{name}`` serves, with their media types; nothing else."""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>deepaas-lite</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{static}/app.css">
  <script src="{static}/app.js" defer></script>
</head>
<body>
  <a class="skip" href="#main">Skip to the content</a>
  <header class="top">
    <a class="brand" href="#/">deepaas-lite</a>
    <nav aria-label="Site">
      <a href="#/">Models</a>
      <a href="{base}/ui">API documentation</a>
    </nav>
    <form class="token" id="token-form">
      <label for="token">API token</label>
      <input id="token" type="password" autocomplete="off" spellcheck="false"
             placeholder="only if the server asks for one">
      <button type="submit">Use</button>
    </form>
  </header>
  <main id="main" tabindex="-1">
    <noscript>This app needs JavaScript. The API itself is described at
      <a href="{base}/ui">{base}/ui</a>.</noscript>
  </main>
</body>
</html>
"""


async def page(request: web.Request) -> web.Response:
    base = html.escape(request.app[SETTINGS].base_path)
    body = _PAGE.format(base=base, static=base + "/app/static")
    return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-cache"})


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound(text=f"No asset {name!r}")
    return web.FileResponse(
        STATIC / name,
        headers={"Content-Type": ASSETS[name] + "; charset=utf-8", "Cache-Control": "no-cache"},
    )


def wants_html(accept: str) -> bool:
    """Whether an ``Accept`` header prefers an HTML page to JSON (a browser's does).

    HTML must be named, with a weight above JSON's; ``*/*`` alone (curl, clients) and
    JSON named at least as high keep the JSON answer.
    """
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[media.lower()] = weight
    return weights.get("text/html", 0.0) > weights.get("application/json", 0.0)


def redirect_to_app(request: web.Request) -> None:
    """A browser asking ``/`` for a page goes to the app (``302``)."""
    if wants_html(request.headers.get("Accept", "")):
        raise web.HTTPFound(request.app[SETTINGS].base_path + "/app")
