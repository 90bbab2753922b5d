"""``GET /v2/models/{id}/store/`` and ``PUT /v2/models/{id}/store/current?version=``:
a model's versions, and making an older one current again (``training/versions.py``)."""

from __future__ import annotations

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.web import models
from deepaas_lite.web.keys import TRAININGS
from deepaas_lite.web.models import model_of
from deepaas_lite.web.responses import json_response

STORE_ERRORS = (*models.ERRORS, exceptions.NotImplementedByModel)
"""What ``get_store`` raises."""
CURRENT_ERRORS = (*STORE_ERRORS, exceptions.InvalidArguments, exceptions.VersionNotFound)
"""What ``make_current`` raises."""


def _trainable(request: web.Request) -> str:
    model = model_of(request)
    if not model.can_train:
        raise exceptions.NotImplementedByModel(
            f"Model '{model.id}' does not implement train: it has no versions"
        )
    return model.id


async def get_store(request: web.Request) -> web.Response:
    model_id = _trainable(request)
    return json_response(request.app[TRAININGS].versions.describe(model_id))


async def make_current(request: web.Request) -> web.Response:
    model_id = _trainable(request)
    version = request.query.get("version", "")
    if not version:
        raise exceptions.InvalidArguments({"version": ["Missing data for required field."]})
    return json_response(await request.app[TRAININGS].versions.make_current(model_id, version))
