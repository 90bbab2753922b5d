"""The Open Inference Protocol (KServe V2) front end: it only translates HTTP.

``GET /v2`` (server metadata in the v2 version object), ``GET /v2/models/{id}`` (V2 model
metadata in the model's description), ``GET /v2/models/{id}/ready`` and ``POST
/v2/models/{id}/infer``, each also under ``/versions/{version}/``. An inference
request is read by ``model/inference.py`` into the plugin's arguments and run by the
model's predictor, as ``/predict`` runs it; with ``Prefer: respond-async`` it is read
and validated now and stored as a prediction job (``web/prediction_jobs.py``), whose
output is the same answer. Bodies may carry the binary data extension: the JSON first
(``Inference-Header-Content-Length`` bytes), then each binary tensor in order. Errors
here carry ``"error"`` (the error middleware adds it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from deepaas_lite import __version__, exceptions
from deepaas_lite.engine.protocol import all_outputs
from deepaas_lite.http_errors import meaning_of
from deepaas_lite.logs import REQUEST_ID
from deepaas_lite.model.inference import Answer, Signature
from deepaas_lite.model.output import encode
from deepaas_lite.model.uploads import SavedFiles
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.web import models, prediction_jobs, versions
from deepaas_lite.web.body import json_object, send_continue
from deepaas_lite.web.errors import error_response
from deepaas_lite.web.keys import PREDICTORS, SETTINGS
from deepaas_lite.web.parsing import OFF_LOOP_BYTES
from deepaas_lite.web.responses import json_response

SERVER_NAME = "deepaas-lite"
EXTENSIONS = ("binary_tensor_data",)
PLATFORM = "deepaas_plugin"
HEADER_LENGTH = "Inference-Header-Content-Length"
OCTET_STREAM = "application/octet-stream"

SIGNATURES = web.AppKey("signatures", dict[str, Signature])

METADATA_ERRORS = (exceptions.ModelNotFound,)  # VersionNotFound is one
"""What the metadata and readiness handlers raise."""
INFER_ERRORS = (
    exceptions.ModelNotFound,
    exceptions.NotImplementedByModel,
    exceptions.MalformedBody,
    exceptions.InvalidInputs,
    exceptions.ModelNotReady,
    exceptions.ModelBusy,
    exceptions.PredictTimeout,
    exceptions.PluginFailed,  # and whatever the plugin raises
    exceptions.InvalidResponse,
    *prediction_jobs.SUBMIT_ERRORS,
)
NOT_READY = meaning_of(exceptions.ModelNotReady).status


def signatures(served: Mapping[str, ModelWrapper]) -> dict[str, Signature]:
    """Each model's inputs, outputs and version, worked out once at start-up."""
    return {model_id: Signature.of(model) for model_id, model in served.items()}


def server_metadata() -> dict[str, Any]:
    return {"name": SERVER_NAME, "version": __version__, "extensions": list(EXTENSIONS)}


async def get_v2(request: web.Request) -> web.Response:
    """The v2 version object with the V2 server metadata (its ``version`` is the
    server's; ``GET /`` still lists v2 as ``stable``)."""
    return json_response({**versions.v2_version(request), **server_metadata()})


def _served(request: web.Request) -> tuple[ModelWrapper, Signature]:
    """The model of the path, in the version the path names (if it names one)."""
    model = models.model_of(request)
    signature = request.app[SIGNATURES][model.id]
    version = request.match_info.get("version")
    if version is None:
        return model, signature
    known = signature.versions()
    if version not in known:
        serves = f" (it serves {', '.join(map(repr, known))})" if known else ""
        raise exceptions.VersionNotFound(f"Model '{model.id}' has no version '{version}'{serves}")
    return model, signature


def model_metadata(request: web.Request, model: ModelWrapper) -> dict[str, Any]:
    """The model's description with the V2 model metadata (whose ``name`` is the id)."""
    signature = request.app[SIGNATURES][model.id]
    v2 = {
        "name": model.id,
        "versions": signature.versions(),
        "platform": PLATFORM,
        **signature.metadata(),
    }
    return {**models.describe(request, model), **v2}


async def get_model(request: web.Request) -> web.Response:
    model, _ = _served(request)
    return json_response(model_metadata(request, model))


async def model_ready(request: web.Request) -> web.Response:
    model, _ = _served(request)
    predictor = request.app[PREDICTORS][model.id]
    if predictor.ready:
        return json_response({"name": model.id, "ready": True})
    message = f"Model '{model.id}' is not ready: {predictor.reason or 'not ready'}"
    return error_response(NOT_READY, message, error=message, name=model.id, ready=False)


async def infer(request: web.Request) -> web.Response:
    model, signature = _served(request)
    if not model.can_predict:
        raise exceptions.NotImplementedByModel(f"Model '{model.id}' does not implement predict")
    as_job = prediction_jobs.PREFER in request.headers and prediction_jobs.wants_async(request)
    await send_continue(request)
    header, binary = _split(request, await request.read())
    if len(header) > OFF_LOOP_BYTES:  # (a coroutine less for the small ones)
        body = await asyncio.to_thread(json_object, _within_limit(request, header), True)
    else:
        body = json_object(_within_limit(request, header))
    files = SavedFiles()
    try:
        inference = signature.read(
            body, _binary_inputs(body, binary), files.save, REQUEST_ID.get() or ""
        )
        if as_job:  # the files are copied for the job before they go
            return await prediction_jobs.submit_inference(request, model.id, inference)
        predictor = request.app[PREDICTORS][model.id]
        outputs = await all_outputs([predictor.predict(call) for call in inference.calls])
    finally:
        files.cleanup()
    return _response(signature.answer(inference, outputs))


def _split(request: web.Request, raw: bytes) -> tuple[bytes, bytes]:
    """The JSON of the body and the binary data after it."""
    length_text = request.headers.get(HEADER_LENGTH)
    if length_text is None:
        return raw, b""
    try:
        length = int(length_text)
    except ValueError:
        length = -1
    if not 0 <= length <= len(raw):
        raise exceptions.MalformedBody(
            f"{HEADER_LENGTH} is {length_text!r}, the body holds {len(raw)} bytes"
        )
    return raw[:length], raw[length:]


def _within_limit(request: web.Request, raw: bytes) -> bytes:
    """The request's JSON, at most ``--json-max-size`` bytes (tensors of any size go as
    binary data); it is decoded in a thread when large, as on the DEEPaaS routes."""
    limit = request.app[SETTINGS].json_max_size
    if limit and len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit,
            actual_size=len(raw),
            text=f"The JSON of an inference request may be at most {limit} bytes "
            "(--json-max-size): send large tensors as binary data (binary_data_size)",
        )
    return raw


def _binary_inputs(body: Mapping[str, Any], binary: bytes) -> dict[str, bytes]:
    """Each input's binary data, in the order of the inputs."""
    out: dict[str, bytes] = {}
    at = 0
    inputs = body.get("inputs")
    for item in inputs if isinstance(inputs, list) else []:
        parameters = item.get("parameters") if isinstance(item, Mapping) else None
        size = parameters.get("binary_data_size") if isinstance(parameters, Mapping) else None
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise exceptions.InvalidInputs(f"Input '{item.get('name')}': a bad binary_data_size")
        out[str(item.get("name"))] = binary[at : at + size]
        at += size
    if at != len(binary):
        raise exceptions.InvalidInputs(
            f"The binary data holds {len(binary)} bytes, the inputs' binary_data_size {at}"
        )
    return out


def _response(answer: Answer) -> web.Response:
    """The ``$inference_response``: JSON, then the binary outputs' bytes (if any)."""
    if not answer.blobs:
        return json_response(answer.header)
    header = encode(answer.header)
    return web.Response(
        body=header + b"".join(answer.blobs),
        content_type=OCTET_STREAM,
        headers={HEADER_LENGTH: str(len(header))},
    )
