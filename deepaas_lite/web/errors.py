"""Exceptions to JSON error answers: the one middleware, by ``http_errors.ERRORS``.

Every error answer is ``{"code": N, "message": "..."}`` (422 adds ``"errors"``).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.http_errors import FAILED, meaning_of
from deepaas_lite.logs import REQUEST_ID
from deepaas_lite.web.keys import OPEN_INFERENCE
from deepaas_lite.web.models import unknown_model
from deepaas_lite.web.responses import json_response

LOG = logging.getLogger(__name__)


# Headers of an aiohttp HTTPException that its JSON answer keeps.
KEPT_HEADERS = frozenset({"allow", "www-authenticate", "retry-after"})

# What the router answers a request no route takes.
_UNROUTED = frozenset({404, 405})


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
        if exc.status in _UNROUTED and (unknown := unknown_model(request)) is not None:
            return _core_error(request, unknown)  # 404 under an unknown model, not 405
        headers = {k: v for k, v in exc.headers.items() if k.lower() in KEPT_HEADERS}
        message = _http_message(exc)
        return error_response(exc.status, message, headers=headers, **_oip(request, message))
    except exceptions.DeepaasError as exc:
        return _core_error(request, exc)
    except Exception as exc:
        LOG.exception("%s %s: the plugin raised", request.method, request.path)
        message = str(exc) or type(exc).__name__
        return error_response(FAILED.status, message, **_oip(request, message))


def _core_error(request: web.Request, exc: exceptions.DeepaasError) -> web.Response:
    """The answer to a core error: its status from the table, and what it carries."""
    meaning = meaning_of(type(exc))
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.InvalidArguments):
        extra["errors"] = exc.errors
    retry_after: int | None = getattr(exc, "retry_after", None)  # a limit, not a failure
    if meaning.fault:
        LOG.error("%s %s: %s", request.method, request.path, exc.message)
    elif retry_after is None and meaning.status >= 500 and meaning.status != 501:
        # A state the client sees (not ready yet, a time limit): worth a line, not an alarm.
        LOG.warning("%s %s: %s", request.method, request.path, exc.message)  # 501: lacks it
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    extra.update(_oip(request, exc.message))
    return error_response(meaning.status, exc.message, headers=headers, **extra)


def _oip(request: web.Request, message: str) -> dict[str, str]:
    """On the Open Inference Protocol's routes, the message as ``"error"`` too (its
    clients read that key)."""
    resource = request.match_info.route.resource
    paths = request.app.get(OPEN_INFERENCE, frozenset())
    return {"error": message} if resource is not None and resource.canonical in paths else {}
