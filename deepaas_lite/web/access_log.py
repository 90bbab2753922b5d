"""The access log: one INFO line per request on the ``deepaas_lite.access`` logger.

The line names the method, the path, the status, the duration and the model; the
request id comes with every log line (``deepaas_lite.logs``). With ``--log-format
json`` these are keys of their own.

Under ``deepaas-run``'s own log setup (one ``BackgroundHandler``, nothing else on the
way), a request costs the event loop a tuple (``AccessLine``): the log thread makes
the record, or straight away the text line, the very one the record would give.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, NamedTuple

from aiohttp import web

from deepaas_lite.logs import ACCESS_LOGGER, REQUEST_ID, BackgroundHandler, TextFormatter
from deepaas_lite.web.observed import Observer

LOG = logging.getLogger(ACCESS_LOGGER)
_ROOT = logging.getLogger()

# nginx's status for "the client went away before the answer".
CLIENT_CLOSED = 499


def _log(request: web.Request, status: int, seconds: float) -> None:
    if not LOG.isEnabledFor(logging.INFO):
        return
    method, path = request.method, request.path
    model = request.match_info.get("model_id")
    sink = _sink()
    if sink is not None:
        thread = threading.current_thread()
        request_id = REQUEST_ID.get() or "-"
        sink.defer(
            AccessLine(
                time.time(),
                thread.ident,
                thread.name,
                request_id,
                method,
                path,
                status,
                seconds,
                model,
            )
        )
        return
    duration_ms = seconds * 1000
    LOG.handle(
        _record(
            _message(method, path, status, duration_ms, model),
            method=method,
            path=path,
            status=status,
            duration_ms=round(duration_ms, 3),
            model=model,
        )
    )


def _message(method: str, path: str, status: int, duration_ms: float, model: str | None) -> str:
    return f"{method} {path} {status} {duration_ms:.1f}ms" + (f" model={model}" if model else "")


def _sink() -> BackgroundHandler | None:
    """The log thread's handler, when an access record would reach it and only it."""
    handlers = _ROOT.handlers
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    if isinstance(handler, BackgroundHandler) and handler.takes(LOG):
        return handler
    return None


class AccessLine(NamedTuple):
    """What the access line of one request says, as the event loop knew it."""

    created: float
    thread: int | None
    thread_name: str
    request_id: str
    method: str
    path: str
    status: int
    seconds: float
    model: str | None

    def record(self) -> logging.LogRecord:
        duration_ms = self.seconds * 1000
        record = _record(
            _message(self.method, self.path, self.status, duration_ms, self.model),
            created=self.created,
            thread=self.thread,
            threadName=self.thread_name,
            request_id=self.request_id,
            method=self.method,
            path=self.path,
            status=self.status,
            duration_ms=round(duration_ms, 3),
            model=self.model,
        )
        return record

    def text(self, formatter: TextFormatter) -> str:
        created = self.created
        msecs = int((created - int(created)) * 1000) + 0.0
        asctime = formatter.asctime(created, msecs)
        message = _message(self.method, self.path, self.status, self.seconds * 1000, self.model)
        return formatter.line(asctime, "INFO", ACCESS_LOGGER, self.request_id, message)


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
    part, the time, the thread and the line's own (``created``, ``thread`` and
    ``threadName`` given are kept). Measured: a third of what ``LogRecord.__init__``
    costs, which walks the caller's path on every line."""
    record: logging.LogRecord = logging.LogRecord.__new__(logging.LogRecord)
    created = extra.pop("created", None) or time.time()
    if "thread" not in extra:
        thread = threading.current_thread()
        extra.update(thread=thread.ident, threadName=thread.name)
    record.__dict__.update(
        _FIXED,
        msg=message,
        created=created,
        msecs=int((created - int(created)) * 1000) + 0.0,
        relativeCreated=(created - _STARTED) * 1000,
        **extra,
    )
    return record


_FIXED, _STARTED = _template()


ACCESS_LOG = Observer(_log, gone_status=CLIENT_CLOSED)
