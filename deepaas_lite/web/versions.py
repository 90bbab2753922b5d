"""``GET /`` and ``GET /v2/``: the API versions and where to go next.

A browser asking ``/`` for a page (``Accept`` naming ``text/html`` above JSON) is sent
to the web app instead.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas_lite.web.links import link
from deepaas_lite.web.responses import json_response
from deepaas_lite.web.webapp import redirect_to_app


def v2_version(request: web.Request) -> dict[str, Any]:
    return {
        "version": "stable",
        "id": "v2",
        "links": [
            link(request, "self", "/v2/"),
            link(request, "models", "/v2/models/"),
        ],
    }


async def list_versions(request: web.Request) -> web.Response:
    redirect_to_app(request)
    return json_response(
        {
            "versions": [v2_version(request)],
            "links": [
                link(request, "help", "/ui", "text/html"),
                link(request, "describedby", "/swagger.json"),
            ],
        }
    )


async def get_v2(request: web.Request) -> web.Response:
    return json_response(v2_version(request))
