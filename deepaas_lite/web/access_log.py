"""The access log: one INFO line per request on the ``deepaas_lite.access`` logger.

The line names the method, the path, the status, the duration and the model; the
request id comes with every log line (``deepaas_lite.logs``). With ``--log-format
json`` these are keys of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

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
    LOG.handle(
        _record(
            message,
            method=method,
            path=path,
            status=status,
            duration_ms=round(duration_ms, 3),
            model=model,
        )
    )


def _template() -> tuple[dict[str, Any], float]:
    """What every access record shares (logger, level, caller, process), and the time
    logging started (for ``relativeCreated``), read off a record made the usual way."""
    first = LOG.makeRecord(LOG.name, logging.INFO, __file__, _LINE, "", (), None, "_log")
    fixed = dict(vars(first))
    for key in ("msg", "created", "msecs", "relativeCreated", "thread", "threadName"):
        del fixed[key]
    return fixed, first.created - first.relativeCreated / 1000


_LINE = _log.__code__.co_firstlineno


def _record(message: str, **extra: Any) -> logging.LogRecord:
    """A record for ``_log``, as ``LOG.makeRecord`` would make it: a copy of the shared
    part, the time, the thread and the line's own. Measured: a third of what
    ``LogRecord.__init__`` costs, which walks the caller's path on every line."""
    record: logging.LogRecord = logging.LogRecord.__new__(logging.LogRecord)
    created = time.time()
    thread = threading.current_thread()
    record.__dict__.update(
        _FIXED,
        msg=message,
        created=created,
        msecs=int((created - int(created)) * 1000) + 0.0,
        relativeCreated=(created - _STARTED) * 1000,
        thread=thread.ident,
        threadName=thread.name,
        **extra,
    )
    return record


_FIXED, _STARTED = _template()


ACCESS_LOG = Observer(_log, gone_status=CLIENT_CLOSED)
