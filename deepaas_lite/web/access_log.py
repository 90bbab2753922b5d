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
    method, path = request.method, request.path
    model = request.match_info.get("model_id")
    message = f"{method} {path} {status} {duration_ms:.1f}ms" + (f" model={model}" if model else "")
    # The record is made directly: the caller is always this function, so the frames
    # need no walking (findCaller) on every request.
    record = LOG.makeRecord(LOG.name, logging.INFO, __file__, _LINE, message, (), None, "_log")
    record.method = method
    record.path = path
    record.status = status
    record.duration_ms = round(duration_ms, 3)
    record.model = model
    LOG.handle(record)


_LINE = _log.__code__.co_firstlineno


ACCESS_LOG = Observer(_log, gone_status=CLIENT_CLOSED)
