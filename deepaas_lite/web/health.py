"""Liveness and readiness: ready once every model is warmed and serving.

The bodies carry the Open Inference Protocol's keys (``"live"``, ``"ready"``), which
KServe's clients read, besides deepaas-lite's own.
"""

from __future__ import annotations

from aiohttp import web

from deepaas_lite.ray import cluster as ray_cluster  # does not import Ray
from deepaas_lite.web.keys import PREDICTORS
from deepaas_lite.web.responses import json_response


async def live(request: web.Request) -> web.Response:
    return json_response({"live": True, "status": "live"})


async def ready(request: web.Request) -> web.Response:
    """503 names the models that are not ready, each with its reason."""
    predictors = request.app[PREDICTORS]
    waiting = sorted(model_id for model_id, predictor in predictors.items() if not predictor.ready)
    cluster_problem = ray_cluster.problem()
    if cluster_problem is not None and not waiting:
        return json_response(
            {"ready": False, "code": 503, "message": f"Not ready: {cluster_problem}"}, status=503
        )
    if waiting:
        return json_response(
            {
                "ready": False,
                "code": 503,
                "message": "Not ready: " + ", ".join(waiting),
                "models": waiting,
                "reasons": {m: predictors[m].reason or "not ready" for m in waiting},
            },
            status=503,
        )
    return json_response({"ready": True, "status": "ready"})
