"""The access log: one INFO line per request on the ``deepaas_lite.access`` logger.

The line names the method, the path, the status, the duration and the model; the
request id comes with every log line (``deepaas_lite.logs``). With ``--log-format
json`` these are keys of their own.
"""

from __future__ import annotations

import logging

from aiohttp import web

from deepaas_lite.logs import ACCESS_LOGGER
from deepaas_lite.web.observed import Observer

LOG = logging.getLogger(ACCESS_LOGGER)

# nginx's status for "the client went away before the answer".
CLIENT_CLOSED = 499


def _log(request: web.Request, status: int, seconds: float) -> None:
    if not LOG.isEnabledFor(logging.INFO):
        return
    duration_ms = seconds * 1000
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


ACCESS_LOG = Observer(_log, gone_status=CLIENT_CLOSED)
