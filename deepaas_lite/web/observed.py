"""The outermost middleware: a request's id, and what watches how it was answered.

Each request gets its id (``request_id.py``) before anything logs, and the observers
(the access log, ``access_log.py``; the request metrics, ``metrics.py``) are told its
status and duration once it has been answered, all in one middleware frame: a frame
per job cost a no-op model about 5 us a request each. The status is the response's,
or the raised ``HTTPException``'s; any other exception is a 500 (the error middleware,
further in, has made every error a response already).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from deepaas_lite.logs import REQUEST_ID
from deepaas_lite.web.request_id import HEADER, REQUEST_ID_KEY, choose

Report = Callable[[web.Request, int, float], None]
"""``(request, status, seconds)``, once the request has been answered (or abandoned)."""


@dataclass(frozen=True)
class Observer:
    """A ``report``, and the status it is given for a request whose client went away
    before its answer."""

    report: Report
    gone_status: int = 500


def observing(observers: Sequence[Observer]) -> Middleware:
    """The outermost middleware: the request id (on the request, in the log context, on
    the answer), then every observer's report."""
    watchers = tuple(observers)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = choose(request.headers.get(HEADER))
        request[REQUEST_ID_KEY] = request_id
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        status = 500
        gone = False
        try:
            response = await handler(request)
            status = response.status
        except web.HTTPException as exc:  # redirects and the like, past the error middleware
            status = exc.status
            exc.headers[HEADER] = request_id
            raise
        except asyncio.CancelledError:
            gone = True
            raise
        finally:
            seconds = time.perf_counter() - start
            for watcher in watchers:
                watcher.report(request, watcher.gone_status if gone else status, seconds)
            REQUEST_ID.reset(token)
        response.headers[HEADER] = request_id
        return response

    return middleware
