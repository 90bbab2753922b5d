"""Exceptions to JSON error answers: the one middleware, by ``http_errors.ERRORS``.

Every error answer is ``{"code": N, "message": "..."}`` (422 adds ``"errors"``). A core
error's table entry says its status, the level its answer is logged at and the headers
it carries.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from deepaas_lite import exceptions
from deepaas_lite.http_errors import (
    ERRORS,
    FAILED,
    FORBIDDEN,
    NOT_ALLOWED,
    RETRY_AFTER,
    TOO_LARGE,
    UNAUTHORIZED,
    Meaning,
    meaning_of,
)
from deepaas_lite.logs import REQUEST_ID
from deepaas_lite.web.keys import OPEN_INFERENCE
from deepaas_lite.web.models import unknown_model
from deepaas_lite.web.responses import json_response

LOG = logging.getLogger(__name__)


# Headers of an aiohttp HTTPException that its JSON answer keeps: those the table names.
KEPT_HEADERS = frozenset(
    header.lower()
    for meaning in (*ERRORS.values(), UNAUTHORIZED, FORBIDDEN, TOO_LARGE, NOT_ALLOWED)
    for header in meaning.headers
)

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
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
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
        _log(FAILED, request, "the plugin raised", exc_info=True)
        message = str(exc) or type(exc).__name__
        return error_response(FAILED.status, message, **_oip(request, message))


def _core_error(request: web.Request, exc: exceptions.DeepaasError) -> web.Response:
    """The answer to a core error: its status from the table, and what it carries."""
    meaning = meaning_of(type(exc))
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.InvalidArguments):
        extra["errors"] = exc.errors
    _log(meaning, request, exc.message)
    headers = {}
    if RETRY_AFTER in meaning.headers and exc.retry_after is not None:
        headers[RETRY_AFTER] = str(exc.retry_after)
    extra.update(_oip(request, exc.message))
    return error_response(meaning.status, exc.message, headers=headers or None, **extra)


def _log(meaning: Meaning, request: web.Request, message: str, exc_info: bool = False) -> None:
    """Log the answer at the level its table entry says (not at all without one)."""
    if meaning.log is not None:
        LOG.log(meaning.log, "%s %s: %s", request.method, request.path, message, exc_info=exc_info)


def _oip(request: web.Request, message: str) -> dict[str, str]:
    """On the Open Inference Protocol's routes, the message as ``"error"`` too (its
    clients read that key)."""
    resource = request.match_info.route.resource
    paths = request.app.get(OPEN_INFERENCE, frozenset())
    return {"error": message} if resource is not None and resource.canonical in paths else {}
