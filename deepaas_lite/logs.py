"""Log setup: text or JSON lines on stderr, each line carrying its request's id.

The web layer sets ``REQUEST_ID`` while it serves a request; a filter copies it onto
every record logged meanwhile (by the server, the core or a plugin), as
``record.request_id`` (``"-"`` outside a request).

A text line is one line whatever it quotes: control characters (a decoded ``%0a`` in a
path, an ANSI ``%1b[31m``) are written escaped, ``\n`` or ``\x1b`` (``escape``); a
traceback after it keeps its own lines. JSON lines are escaped by JSON itself.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any, Protocol

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "deepaas_request_id", default=None
)

ACCESS_LOGGER = "deepaas_lite.access"

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

# Extra attributes of a record that a JSON line carries as keys of their own.
_EXTRA_KEYS = ("method", "path", "status", "duration_ms", "model", "training")


# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with its control characters written as escapes, on one line."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escaped, text)


class TextFormatter(logging.Formatter):
    """``logging.Formatter`` whose line (not the traceback after it) is ``escape``d.

    The date of a second is worked out once (``formatTime``), not for every line.
    """

    _second: tuple[int, str] = (-1, "")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape(super().formatMessage(record))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None or self.converter is not time.localtime:
            return super().formatTime(record, datefmt)
        return self.asctime(record.created, record.msecs)

    def asctime(self, created: float, msecs: float) -> str:
        """``formatTime`` of a record made at ``created`` (``msecs`` its milliseconds),
        with the default date format."""
        second = int(created)
        if self._second[0] != second:
            text = time.strftime(self.default_time_format, time.localtime(second))
            self._second = (second, text)
        return f"{self._second[1]},{int(msecs):03d}"  # logging's default_msec_format

    def standard(self) -> bool:
        """Whether it writes ``TEXT_FORMAT`` lines with the default date."""
        return self._fmt == TEXT_FORMAT and self.datefmt is None

    def line(self, asctime: str, level: str, name: str, request_id: str, message: str) -> str:
        """The line ``format`` writes for a record without a traceback, when
        ``standard``: made without a record."""
        return escape(f"{asctime} {level} {name} [{request_id}]: {message}")


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


def handler(log_format: str = "text", stream: Any = None) -> logging.StreamHandler[Any]:
    """A stream handler (stderr by default) writing ``text`` or ``json`` lines."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    out.addFilter(RequestIdFilter())
    return out


class Deferred(Protocol):
    """A log line whose record is made by ``BackgroundHandler``'s thread, not by the
    caller (``defer``): what the caller knew, kept in a tuple."""

    def record(self) -> logging.LogRecord:
        """The record the line stands for, as the caller would have logged it."""
        ...

    def text(self, formatter: TextFormatter) -> str:
        """The line ``formatter`` (``standard``) writes for it."""
        ...


# The thread formats for at most about ``_SLICE_S`` at a stretch, then gives the GIL
# back to the event loop: a busy server's batch of access lines formatted in one go
# would keep the loop from it for milliseconds. It reads the clock every ``_SLICE``
# records. A stretch much shorter (16 records, about 30 us) spent more on handing the
# GIL back and forth than on the records: the thread took twice the CPU.
_SLICE = 16
_SLICE_S = 0.0003


class BackgroundHandler(logging.Handler):
    """Hands records to a thread that formats and writes them, a batch at a time.

    The logging call pays for the record and a deque append; the thread wakes at most
    every ``delay`` seconds, formats what has gathered and writes it in one go. A write
    per line would release the GIL, and on a busy server every release lets a waiting
    thread in: an access line per request cost a no-op model a third of its
    throughput. The record's message is merged with its arguments at once (they may
    change later); the request id filter runs at once too (it reads the caller's
    context). ``flush`` and ``close`` (``logging.shutdown`` at exit) write what is left.
    """

    def __init__(self, target: logging.StreamHandler[Any], delay: float = 0.05) -> None:
        super().__init__()
        self._target = target
        self._delay = delay
        self._records: deque[logging.LogRecord | Deferred] = deque()
        self._wake = threading.Event()
        self._drain_lock = threading.Lock()
        self._closed = False
        for added in target.filters:
            self.addFilter(added)
        # The filters only put request ids on records: a deferred line has its own.
        self._plain = all(isinstance(f, RequestIdFilter) for f in self.filters)
        formatter = target.formatter
        standard = isinstance(formatter, TextFormatter) and formatter.standard()
        self._text = formatter if standard and isinstance(formatter, TextFormatter) else None
        self._start()
        os.register_at_fork(after_in_child=self._start)

    def _start(self) -> None:
        self._records.clear()
        self._wake.clear()
        threading.Thread(target=self._run, name="log-writer", daemon=True).start()

    def handle(self, record: logging.LogRecord) -> bool:  # no handler lock: a deque append
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        self._records.append(record)
        if not self._wake.is_set():
            self._wake.set()

    def takes(self, logger: logging.Logger) -> bool:
        """Whether a record of ``logger`` reaches this handler and nothing else: no
        handler or filter on its way up but this one on the root, and no filter here
        but request ids. Then ``defer`` may stand for ``logger.handle``."""
        while logger.parent is not None:
            if logger.handlers or logger.filters or not logger.propagate or logger.disabled:
                return False
            logger = logger.parent
        return logger.handlers == [self] and self.level == logging.NOTSET and self._plain

    def defer(self, line: Deferred) -> None:
        """Write ``line``; its record is made by the thread (see ``takes``)."""
        self._records.append(line)
        if not self._wake.is_set():
            self._wake.set()

    def _format(self, item: logging.LogRecord | Deferred) -> str:
        if isinstance(item, logging.LogRecord):
            return self._target.format(item)
        if self._text is not None:
            return item.text(self._text)
        return self._target.format(item.record())

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            self._drain()
            time.sleep(self._delay)  # let the next batch gather

    def _drain(self) -> None:
        with self._drain_lock:
            records = self._records
            lines = []
            until = time.perf_counter() + _SLICE_S
            while records:
                item = records.popleft()
                try:
                    lines.append(self._format(item))
                except Exception:
                    self._target.handleError(
                        item if isinstance(item, logging.LogRecord) else item.record()
                    )
                if len(lines) % _SLICE == 0 and time.perf_counter() >= until:
                    time.sleep(0)  # let the event loop have the GIL between stretches
                    until = time.perf_counter() + _SLICE_S
            if lines:
                terminator = self._target.terminator
                try:
                    self._target.stream.write(terminator.join(lines) + terminator)
                    self._target.stream.flush()
                except (OSError, ValueError):  # the stream is closed or gone: nowhere to say so
                    pass

    def flush(self) -> None:
        self._drain()

    def close(self) -> None:
        self._closed = True
        self._drain()
        self._wake.set()
        super().close()


def setup(log_format: str = "text", debug: bool = False, access_log: bool = True) -> None:
    """Configure the root logger for ``deepaas-run``: one handler, INFO (or DEBUG),
    writing from a thread of its own (``BackgroundHandler``).

    ``access_log=False`` silences the access log (``deepaas_lite.access``).
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(BackgroundHandler(handler(log_format)))
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    # aiohttp's own access logger stays quiet: web/access_log.py writes the access log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if access_log else logging.WARNING)
