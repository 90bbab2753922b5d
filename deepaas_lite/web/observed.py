"""A middleware that tells how each request was answered: its status and duration.

The access log (``access_log.py``) and the request metrics (``metrics.py``) both watch
requests so; ``observing`` writes the watching once. The status is the response's, or
the raised ``HTTPException``'s; any other exception is a 500 (the error middleware,
further in, has made every error a response already).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

Report = Callable[[web.Request, int, float], None]
"""``(request, status, seconds)``, once the request has been answered (or abandoned)."""


def observing(report: Report, gone_status: int = 500) -> Middleware:
    """A middleware calling ``report`` for every request; ``gone_status`` is the status
    reported for a request whose client went away before its answer."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = gone_status
            raise
        finally:
            report(request, status, time.perf_counter() - start)

    return middleware
