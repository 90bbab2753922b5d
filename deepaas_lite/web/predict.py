"""``POST /v2/models/{id}/predict/``: parse, run the plugin off the loop, answer."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.model.output import raw_bytes, with_charset
from deepaas_lite.web import models, parsing, prediction_jobs
from deepaas_lite.web.connection import CANCEL_WHEN_GONE, client_gone
from deepaas_lite.web.keys import PREDICTORS
from deepaas_lite.web.models import model_of
from deepaas_lite.web.negotiation import choose, requested
from deepaas_lite.web.parsing import parse_arguments
from deepaas_lite.web.responses import json_response

JSON = "application/json"

ERRORS = (
    *models.ERRORS,
    exceptions.NotImplementedByModel,
    exceptions.NotAcceptable,  # also for a model that answers JSON only
    *parsing.ERRORS,
    *prediction_jobs.SUBMIT_ERRORS,
    exceptions.ModelNotReady,
    exceptions.ModelBusy,
    exceptions.PredictTimeout,
    exceptions.PluginFailed,  # and whatever the plugin raises
    exceptions.InvalidResponse,
)
"""What ``predict`` raises, the predictor's errors included."""


async def predict(request: web.Request) -> web.StreamResponse:
    model = model_of(request)
    if not model.can_predict:
        raise exceptions.NotImplementedByModel(f"Model '{model.id}' does not implement predict")
    if not model.accept_choices:
        choose(requested(request.query, request.headers), [JSON])
    if prediction_jobs.PREFER in request.headers and prediction_jobs.wants_async(request):
        return await prediction_jobs.submit(request)
    kwargs, uploads = await parse_arguments(request, model.predict_schema)
    try:
        if client_gone(request):  # nobody to answer: not run (logged 499)
            raise asyncio.CancelledError
        request[CANCEL_WHEN_GONE] = True  # cancelled, waiting or running, if it goes
        output = await request.app[PREDICTORS][model.id].predict(kwargs)
        request[CANCEL_WHEN_GONE] = False
    finally:
        uploads.cleanup()
    media_type = model.answer_type(kwargs)
    if media_type != JSON:
        return raw_response(output, media_type)
    if model.response_schema is not None:
        return json_response(model.validate_output(output))
    return json_response({"status": "OK", "predictions": output})


def raw_response(output: Any, media_type: str) -> web.Response:
    """A non-JSON answer: bytes, str (text, never a path), an open binary file or a path."""
    return web.Response(body=raw_bytes(output), headers={"Content-Type": with_charset(media_type)})
