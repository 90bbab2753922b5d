"""Request ids: ``X-Request-ID`` kept when it is short and plain, else a new one.

The id is on the response, in every log line while the request is served
(``deepaas_lite.logs.REQUEST_ID``), in error bodies and in the training record the
request started.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from deepaas_lite.logs import REQUEST_ID

HEADER = "X-Request-ID"

REQUEST_ID_KEY = web.RequestKey("request_id", str)

_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(request: web.Request) -> str | None:
    """The id of the request being served (``None`` outside the middleware)."""
    return request.get(REQUEST_ID_KEY)


def choose(incoming: str | None) -> str:
    """The client's id when it is 1-128 characters of ``A-Za-z0-9._:-``, else a new one."""
    if incoming is not None and _VALID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


@web.middleware
async def request_id_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    request_id = choose(request.headers.get(HEADER))
    request[REQUEST_ID_KEY] = request_id
    token = REQUEST_ID.set(request_id)
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:  # redirects and the like, raised past the error middleware
        exc.headers[HEADER] = request_id
        raise
    finally:
        REQUEST_ID.reset(token)
    response.headers[HEADER] = request_id
    return response
