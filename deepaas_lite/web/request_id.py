"""Request ids: ``X-Request-ID`` kept when it is short and plain, else a new one.

The outermost middleware (``observed.py``) sets it. The id is on the response, in
every log line while the request is served (``deepaas_lite.logs.REQUEST_ID``), in
error bodies and in the training record the request started.
"""

from __future__ import annotations

import random
import re

from aiohttp import web

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
    # An id, not a secret: 128 random bits without the system call (which lets go of
    # the GIL) that uuid4 and secrets make for each.
    return f"{random.getrandbits(128):032x}"
