"""Exceptions to JSON error answers: the one table, the one middleware.

Every error answer is ``{"code": N, "message": "..."}`` (422 adds ``"errors"``).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.logs import REQUEST_ID
from deepaas_lite.web.responses import json_response

LOG = logging.getLogger(__name__)

STATUS: dict[type[exceptions.DeepaasError], int] = {
    exceptions.ModelNotFound: 404,
    exceptions.TrainingNotFound: 404,
    exceptions.EndpointDisabled: 404,
    exceptions.MalformedBody: 400,
    exceptions.InvalidArguments: 422,
    exceptions.NotAcceptable: 406,
    exceptions.UnsupportedMediaType: 415,
    exceptions.TrainingFinished: 409,
    exceptions.TrainingQueueFull: 429,
    exceptions.StorageFailed: 507,
    exceptions.NotImplementedByModel: 501,
    exceptions.ModelNotReady: 503,
    exceptions.ModelBusy: 503,
    exceptions.PredictTimeout: 504,
    exceptions.InvalidResponse: 500,
    exceptions.PluginFailed: 500,
}


def status_of(exc: exceptions.DeepaasError) -> int:
    """The status for a core error: the nearest class in the table, else 500."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


# Headers of an aiohttp HTTPException that its JSON answer keeps.
KEPT_HEADERS = frozenset({"allow", "www-authenticate", "retry-after"})


def error_response(status: int, message: str, headers: Any = None, **extra: Any) -> web.Response:
    """The JSON error answer; it names the request's id when there is one."""
    body = {"code": status, "message": message, **extra}
    request_id = REQUEST_ID.get()
    if request_id is not None:
        body.setdefault("request_id", request_id)
    return json_response(body, status=status, headers=headers)


def _http_message(exc: web.HTTPException) -> str:
    """aiohttp's default text is "<status>: <reason>"; anything else is a real message."""
    text = exc.text or ""
    if text and not text.startswith(f"{exc.status}:"):
        return text
    return exc.reason


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in KEPT_HEADERS}
        return error_response(exc.status, _http_message(exc), headers=headers)
    except exceptions.InvalidArguments as exc:
        return error_response(422, exc.message, errors=exc.errors)
    except exceptions.DeepaasError as exc:
        status = status_of(exc)
        retry_after = getattr(exc, "retry_after", None)  # a limit reached: not a failure
        if status >= 500 and status != 501 and retry_after is None:  # 501: the model lacks it
            LOG.error("%s %s: %s", request.method, request.path, exc.message)
        retry = None if retry_after is None else {"Retry-After": str(retry_after)}
        return error_response(status, exc.message, headers=retry)
    except Exception as exc:
        LOG.exception("%s %s: the plugin raised", request.method, request.path)
        return error_response(500, str(exc) or type(exc).__name__)
