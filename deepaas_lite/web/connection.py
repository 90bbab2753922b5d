"""One client connection: aiohttp's ``RequestHandler`` with time limits and JSON refusals.

- A request's line and headers must be complete within ``header_timeout`` of its first
  byte (of connecting, for the first request); else the connection is closed. Idle
  between requests is aiohttp's keep-alive timeout (``--idle-timeout``).
- A body being read that sends nothing for ``body_timeout`` ends the read with 408
  (the error middleware answers it; the connection is closed after).
- A request marked ``CANCEL_WHEN_GONE`` (a prediction, while it waits or runs) is
  cancelled when its client goes away: a waiting one is never run, and the access log
  and the metrics count it 499. Others run to their end (a training that was being
  started is started), as aiohttp does.
- When the server stops, a connection that has not sent a whole request yet (a new one,
  or one with part of a head) is waited for (``Acceptor.close``): its request is
  answered with ``Connection: close``.
- A request aiohttp's HTTP parser refuses is answered as every error is, in JSON: 414
  for a request line too long, 431 for a header too long or too many headers, else
  400; one WARNING line says why (not aiohttp's ERROR with a traceback).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from deepaas_lite.engine.limits import CLIENT_GONE
from deepaas_lite.logs import escape

# The longest request line (method, target, version) and header line accepted. They
# differ by a byte or two so that a ``LineTooLong`` tells which it was.
MAX_LINE_SIZE = 8192
MAX_FIELD_SIZE = 8190
MAX_HEADERS = 128
# The longest reason a refused request's log line quotes (the parser quotes the line).
REASON_MAX = 300


CANCEL_WHEN_GONE = web.RequestKey("cancel_when_gone", bool)


def client_gone(request: web.BaseRequest) -> bool:
    """Whether the client of ``request`` has closed its connection."""
    transport = request.transport
    return transport is None or transport.is_closing()


@dataclass(frozen=True)
class Limits:
    """Seconds; 0 is no limit."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    idle_timeout: float = 75.0

    @property
    def tick(self) -> float:
        """How often a connection looks at its clocks."""
        timeouts = [t for t in (self.header_timeout, self.body_timeout) if t]
        return max(0.1, min(timeouts, default=1.0) / 4)


def handler_options(limits: Limits) -> dict[str, Any]:
    """aiohttp ``RequestHandler`` keyword arguments for ``limits``."""
    return {
        "keepalive_timeout": limits.idle_timeout,
        "max_line_size": MAX_LINE_SIZE,
        "max_field_size": MAX_FIELD_SIZE,
        "max_headers": MAX_HEADERS,
        "access_log": None,
    }


def refused_status(exc: BaseException | None) -> int:
    """The status for a request the HTTP parser refused."""
    if isinstance(exc, LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 else None
        return 414 if limit == MAX_LINE_SIZE else 431
    if isinstance(exc, BadHttpMessage) and "Too many headers" in str(exc.message):
        return 431
    if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
        return exc.code
    return 400


_MESSAGES = {
    414: f"The request line is too long (at most {MAX_LINE_SIZE} bytes): send long "
    "arguments in a body",
    431: f"A header is too long (at most {MAX_FIELD_SIZE} bytes) or there are more than "
    f"{MAX_HEADERS} headers",
}


def refused_reason(exc: BaseException | None) -> str:
    """The parser's reason, on one line and short."""
    message = exc.message if isinstance(exc, HttpProcessingError) else str(exc or "")
    lines = (line.strip() for line in str(message).splitlines())
    reason = " ".join(line for line in lines if line.strip("^"))
    if len(reason) > REASON_MAX:
        reason = reason[: REASON_MAX - 3] + "..."
    return escape(reason)


class Connection(RequestHandler):
    """aiohttp's request handler, with ``Limits`` and JSON answers to parser errors."""

    def __init__(self, manager: web.Server, *, limits: Limits, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._limits = limits
        self._head_since: float | None = None
        self._heads = 0
        self._last_data = 0.0
        self._watch: asyncio.TimerHandle | None = None
        self._stopping = False

    @property
    def asking(self) -> bool:
        """Whether a request of this connection may be on its way: none has come since
        the connection was made, or part of a head has, and none is being answered."""
        return (
            self.transport is not None
            and not self._force_close
            and self._head_since is not None
            and not self._request_in_progress
        )

    def stop(self) -> None:
        """The server stops: the requests answered from now on close the connection
        (``Connection: close``); aiohttp closes it once its requests are answered."""
        handler = self._request_handler
        if self._stopping or handler is None:
            return
        self._stopping = True

        async def closing(request: web.BaseRequest) -> web.StreamResponse:
            response = await handler(request)
            response.force_close()
            return response

        self._request_handler = closing

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        now = self._loop.time()
        self._head_since = now
        self._last_data = now
        self._watch = self._loop.call_at(now + self._limits.tick, self._check)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        request = self._current_request
        if request is not None and request.get(CANCEL_WHEN_GONE):
            request.task.cancel(CLIENT_GONE)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        now = self._loop.time()
        self._last_data = now
        if self._head_since is None and not self._request_in_progress:
            self._head_since = now  # the first byte of a request
        super().data_received(data)
        if self._request_count != self._heads:  # a whole head came
            self._heads = self._request_count
            self._head_since = None

    def _check(self) -> None:
        self._watch = None
        if self._force_close or self.transport is None:
            return
        now = self._loop.time()
        limits = self._limits
        if (
            limits.header_timeout
            and self._head_since is not None
            and not self._request_in_progress
            and not self._messages
            and now - self._head_since > limits.header_timeout
        ):
            self.force_close()
            return
        request = self._current_request
        if (
            limits.body_timeout
            and request is not None
            and not request.content.is_eof()
            and not self._reading_paused
            and now - self._last_data > limits.body_timeout
        ):
            request.content.set_exception(
                web.HTTPRequestTimeout(
                    text=f"The body stopped coming: nothing for {limits.body_timeout:g} s "
                    "(--body-timeout)"
                )
            )
            self._close = True  # no further request on this connection
            self._last_data = now
        self._watch = self._loop.call_at(now + limits.tick, self._check)

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status != 400 or not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        status = refused_status(exc)
        reason = refused_reason(exc)
        self.logger.warning(
            "Error handling request from %s: %d %s", escape(str(request.remote)), status, reason
        )
        text = _MESSAGES.get(status, f"Malformed request: {reason}")
        body = json.dumps({"code": status, "message": text}).encode()
        response = web.Response(status=status, body=body, content_type="application/json")
        response.force_close()
        return response
