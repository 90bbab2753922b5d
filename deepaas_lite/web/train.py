"""Training routes: start, list, read, cancel, and read the log."""

from __future__ import annotations

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.web import models, parsing
from deepaas_lite.web.keys import TRAININGS
from deepaas_lite.web.links import path
from deepaas_lite.web.models import model_of
from deepaas_lite.web.parsing import parse_arguments
from deepaas_lite.web.request_id import request_id_of
from deepaas_lite.web.responses import json_response

START_ERRORS = (
    *models.ERRORS,
    exceptions.NotImplementedByModel,
    *parsing.ERRORS,
    exceptions.TrainingQueueFull,
    exceptions.StorageFailed,
)
"""What ``start_training`` raises."""
LIST_ERRORS = models.ERRORS
"""What ``list_trainings`` raises."""
RECORD_ERRORS = (*models.ERRORS, exceptions.TrainingNotFound)
"""What the handlers of one training raise (read, cancel or remove, log)."""
DELETE_ERRORS = (*RECORD_ERRORS, exceptions.VersionInUse)
"""What ``cancel_training`` raises: removing the training whose version is current is 409."""


async def start_training(request: web.Request) -> web.Response:
    model = model_of(request)
    if not model.can_train:
        raise exceptions.NotImplementedByModel(f"Model '{model.id}' does not implement train")
    kwargs, uploads = await parse_arguments(request, model.train_schema)
    try:
        record = await request.app[TRAININGS].submit(model.id, kwargs, request_id_of(request))
    finally:
        uploads.cleanup()
    location = path(request, f"/v2/models/{model.id}/train/{record['uuid']}")
    return json_response(record, headers={"Location": location})


async def list_trainings(request: web.Request) -> web.Response:
    model = model_of(request)
    return json_response(await request.app[TRAININGS].list(model.id))


async def get_training(request: web.Request) -> web.Response:
    model = model_of(request)
    record = await request.app[TRAININGS].get(model.id, request.match_info["uuid"])
    return json_response(record)


async def cancel_training(request: web.Request) -> web.Response:
    model = model_of(request)
    record = await request.app[TRAININGS].delete(model.id, request.match_info["uuid"])
    return json_response(record)


async def training_log(request: web.Request) -> web.StreamResponse:
    model = model_of(request)
    log = await request.app[TRAININGS].log_path(model.id, request.match_info["uuid"])
    if not log.exists():
        return web.Response(text="", content_type="text/plain")
    return web.FileResponse(log, headers={"Content-Type": "text/plain; charset=utf-8"})
