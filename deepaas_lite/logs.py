"""Log setup: text or JSON lines on stderr, each line carrying its request's id.

The web layer sets ``REQUEST_ID`` while it serves a request; a filter copies it onto
every record logged meanwhile (by the server, the core or a plugin), as
``record.request_id`` (``"-"`` outside a request).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "deepaas_request_id", default=None
)

ACCESS_LOGGER = "deepaas_lite.access"

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

# Extra attributes of a record that a JSON line carries as keys of their own.
_EXTRA_KEYS = ("method", "path", "status", "duration_ms", "model", "training")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``"-"`` when none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "-")
        if request_id != "-":
            line["request_id"] = request_id
        for key in _EXTRA_KEYS:
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def handler(log_format: str = "text", stream: Any = None) -> logging.Handler:
    """A stream handler (stderr by default) writing ``text`` or ``json`` lines."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    out.addFilter(RequestIdFilter())
    return out


def setup(log_format: str = "text", debug: bool = False, access_log: bool = True) -> None:
    """Configure the root logger for ``deepaas-run``: one handler, INFO (or DEBUG).

    ``access_log=False`` silences the access log (``deepaas_lite.access``).
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format))
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # aiohttp's own access logger stays quiet: web/access_log.py writes the access log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access_log else logging.WARNING)


def add_request_id_filter(target: logging.Handler) -> None:
    """For handlers set up elsewhere (e.g. by oslo.log): give them ``request_id`` too."""
    target.addFilter(RequestIdFilter())
