"""Liveness and readiness: ready once every executor in use can serve and every model
is warmed and serving; ready names the model store's version each model serves.

The bodies carry the Open Inference Protocol's keys (``"live"``, ``"ready"``), which
KServe's clients read, besides deepaas-lite's own. Not ready is the error answer of
``ModelNotReady`` (its status from ``http_errors``), naming each model and its reason.
"""

from __future__ import annotations

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.engine import executors
from deepaas_lite.http_errors import meaning_of
from deepaas_lite.web.errors import error_response
from deepaas_lite.web.keys import PREDICTORS, SETTINGS
from deepaas_lite.web.responses import json_response

ERRORS = (exceptions.ModelNotReady,)
"""What ``ready`` answers with (not raised: its answer names each model's reason)."""
NOT_READY = meaning_of(exceptions.ModelNotReady).status


async def live(request: web.Request) -> web.Response:
    return json_response({"live": True, "status": "live"})


async def ready(request: web.Request) -> web.Response:
    """503 names the models that are not ready, each with its reason."""
    predictors = request.app[PREDICTORS]
    waiting = sorted(model_id for model_id, predictor in predictors.items() if not predictor.ready)
    if not waiting:
        for executor in executors.in_use(request.app[SETTINGS]):
            problem = executor.problem()
            if problem is not None:
                return error_response(NOT_READY, f"Not ready: {problem}", ready=False)
    if waiting:
        return error_response(
            NOT_READY,
            "Not ready: " + ", ".join(waiting),
            ready=False,
            models=waiting,
            reasons={m: predictors[m].reason or "not ready" for m in waiting},
        )
    # Which version of the model store each model serves (null: none trained yet).
    served = {model_id: predictor.model.version for model_id, predictor in predictors.items()}
    return json_response({"ready": True, "status": "ready", "versions": served})
