"""``GET /v2/models/`` and ``GET /v2/models/{id}/``: what each model is."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.web.keys import MODELS, SETTINGS, TRAININGS
from deepaas_lite.web.links import link
from deepaas_lite.web.responses import json_response


def describe(request: web.Request, model: ModelWrapper) -> dict[str, Any]:
    """The model's metadata plus its id and links."""
    base = f"/v2/models/{model.id}"
    links = [link(request, "self", f"{base}/")]
    if model.can_predict:
        links.append(link(request, "predict", f"{base}/predict/"))
    if model.can_train:
        links.append(link(request, "train", f"{base}/train/"))
    out = {"name": model.id, **model.metadata(), "id": model.id, "links": links}
    if model.can_train:
        out["store"] = request.app[TRAININGS].versions.describe(model.id)
    return out


async def list_models(request: web.Request) -> web.Response:
    models = request.app[MODELS]
    return json_response({"models": [describe(request, m) for m in models.values()]})


async def get_model(request: web.Request) -> web.Response:
    return json_response(describe(request, model_of(request)))


ERRORS = (exceptions.ModelNotFound,)
"""What ``model_of`` raises, so every handler of a model's path."""


def model_of(request: web.Request) -> ModelWrapper:
    """The model named in the path, or ``ModelNotFound``."""
    model_id = request.match_info["model_id"]
    model = request.app[MODELS].get(model_id)
    if model is None:
        raise exceptions.ModelNotFound(f"Model '{model_id}' not found")
    return model


def unknown_model(request: web.Request) -> exceptions.ModelNotFound | None:
    """For a request no route took: ``ModelNotFound`` when its path is under a model
    that is not served (DEEPaaS answers 404 there, whatever the method or the rest)."""
    prefix = request.app[SETTINGS].base_path + "/v2/models/"
    if not request.path.startswith(prefix):
        return None
    model_id = request.path[len(prefix) :].split("/", 1)[0]
    if not model_id or model_id in request.app[MODELS]:
        return None
    return exceptions.ModelNotFound(f"Model '{model_id}' not found")
