"""Prediction jobs over HTTP: ``POST .../predict/`` (and ``.../infer``, the Open
Inference Protocol's) with ``Prefer: respond-async`` answers ``202`` and a ``Location``;
the job is read, its output fetched and the job cancelled or removed under
``/v2/models/{id}/predictions/``.

A pending or running record is answered with ``Retry-After`` (seconds): when to ask
again. ``Callback-URL`` names where the record is POSTed when the job ends (webhooks).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.model.inference import Inference
from deepaas_lite.web import models
from deepaas_lite.web.keys import PREDICTION_JOBS
from deepaas_lite.web.links import path
from deepaas_lite.web.models import model_of
from deepaas_lite.web.parsing import parse_arguments
from deepaas_lite.web.request_id import request_id_of
from deepaas_lite.web.responses import json_response

PREFER = "Prefer"
RESPOND_ASYNC = "respond-async"
CALLBACK = "Callback-URL"
POLL_AFTER = "1"
"""``Retry-After`` of a record that has not ended: a second, a prediction's scale."""

SUBMIT_ERRORS = (
    exceptions.InvalidArguments,  # a Callback-URL that is refused
    exceptions.PredictionJobQueueFull,
    exceptions.StorageFailed,
)
"""What submitting a job raises besides what ``predict`` raises while parsing."""
LIST_ERRORS = models.ERRORS
RECORD_ERRORS = (*models.ERRORS, exceptions.PredictionJobNotFound)
OUTPUT_ERRORS = (*RECORD_ERRORS, exceptions.NoOutput)

_PREFERENCE = re.compile(r"(?:^|,)\s*respond-async\s*(?:[;,]|$)", re.IGNORECASE)


def wants_async(request: web.Request) -> bool:
    """Whether the request prefers an asynchronous answer (RFC 7240)."""
    prefer = request.headers.get(PREFER)
    return prefer is not None and _PREFERENCE.search(prefer) is not None


async def submit(request: web.Request) -> web.Response:
    """A prediction as a job: stored now, run when a slot is free; 202 and its record."""
    model = model_of(request)
    kwargs, uploads = await parse_arguments(request, model.predict_schema)
    try:
        record = await request.app[PREDICTION_JOBS].submit(model.id, kwargs, *_submitter(request))
    finally:
        uploads.cleanup()
    return _accepted(request, model.id, record)


async def submit_inference(
    request: web.Request, model_id: str, inference: Inference
) -> web.Response:
    """An inference (read and validated) as a job: 202 and its record, as ``submit``."""
    jobs = request.app[PREDICTION_JOBS]
    record = await jobs.submit_inference(model_id, inference, *_submitter(request))
    return _accepted(request, model_id, record)


def _submitter(request: web.Request) -> tuple[str | None, str | None]:
    """What a job keeps of the request that submits it: its id, its ``Callback-URL``."""
    return request_id_of(request), request.headers.get(CALLBACK)


def _accepted(request: web.Request, model_id: str, record: dict[str, Any]) -> web.Response:
    headers = {
        "Location": path(request, f"/v2/models/{model_id}/predictions/{record['uuid']}"),
        "Preference-Applied": RESPOND_ASYNC,
        "Retry-After": POLL_AFTER,
    }
    return json_response(record, status=202, headers=headers)


async def list_jobs(request: web.Request) -> web.Response:
    model = model_of(request)
    return json_response(await request.app[PREDICTION_JOBS].list(model.id))


async def get_job(request: web.Request) -> web.Response:
    model = model_of(request)
    record = await request.app[PREDICTION_JOBS].get(model.id, request.match_info["uuid"])
    ended = record["status"] not in ("pending", "running")
    return json_response(record, headers=None if ended else {"Retry-After": POLL_AFTER})


async def job_output(request: web.Request) -> web.StreamResponse:
    model = model_of(request)
    content_type, file = await request.app[PREDICTION_JOBS].output(
        model.id, request.match_info["uuid"]
    )
    return web.FileResponse(file, headers={"Content-Type": content_type})


async def delete_job(request: web.Request) -> web.Response:
    model = model_of(request)
    record = await request.app[PREDICTION_JOBS].delete(model.id, request.match_info["uuid"])
    return json_response(record)
