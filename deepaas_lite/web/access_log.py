"""The access log: one INFO line per request on the ``deepaas_lite.access`` logger.

The line names the method, the path, the status, the duration and the model; the
request id comes with every log line (``deepaas_lite.logs``). With ``--log-format
json`` these are keys of their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

from deepaas_lite.logs import ACCESS_LOGGER

LOG = logging.getLogger(ACCESS_LOGGER)

# nginx's status for "the client went away before the answer".
CLIENT_CLOSED = 499


@web.middleware
async def access_log_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    start = time.perf_counter()
    status = 500
    try:
        response: web.StreamResponse = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        _log(request, status, (time.perf_counter() - start) * 1000)


def _log(request: web.Request, status: int, duration_ms: float) -> None:
    if not LOG.isEnabledFor(logging.INFO):
        return
    model = request.match_info.get("model_id")
    LOG.info(
        "%s %s %d %.1fms%s",
        request.method,
        request.path,
        status,
        duration_ms,
        f" model={model}" if model else "",
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "model": model,
        },
    )
