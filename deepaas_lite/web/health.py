"""Liveness and readiness: ready once every model is warmed and serving."""

from __future__ import annotations

from aiohttp import web

from deepaas_lite.web.keys import PREDICTORS
from deepaas_lite.web.responses import json_response


async def live(request: web.Request) -> web.Response:
    return json_response({"status": "live"})


async def ready(request: web.Request) -> web.Response:
    waiting = sorted(
        model_id for model_id, predictor in request.app[PREDICTORS].items() if not predictor.ready
    )
    if waiting:
        return json_response(
            {
                "code": 503,
                "message": "Not ready: " + ", ".join(waiting),
                "models": waiting,
            },
            status=503,
        )
    return json_response({"status": "ready"})
