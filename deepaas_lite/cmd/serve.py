"""Serving for ``deepaas-run``: bind the port first, then start, print, wait, stop.

A port that cannot be bound is one line on stderr and a non-zero exit, before any
model or training starts. The banner is printed once the server is listening.
SIGTERM and SIGINT stop the server (logged); the application's cleanup stops the
trainings and the predictors. A request aiohttp's HTTP parser rejects (a 4xx) is one
WARNING line, not aiohttp's ERROR with a traceback (``RejectedRequests``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import ssl
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from deepaas_lite.cmd.accept import Acceptor, connection_limit
from deepaas_lite.config import Settings
from deepaas_lite.web import hosts
from deepaas_lite.web.connection import Connection, Limits, handler_options

LOG = logging.getLogger("deepaas_lite")

# The port could not be bound.
EXIT_BIND = 1
BACKLOG = 128
# Seconds, from a stop, that a connection made before it has to send its request.
STOP_GRACE = 2.0


# aiohttp's server logger: it logs the requests its HTTP parser rejects.
SERVER_LOGGER = "aiohttp.server"
# The longest reason a rejected request's line quotes (the parser quotes the bad line).
REASON_MAX = 300


class RejectedRequests(logging.Filter):
    """A request aiohttp's HTTP parser rejects with a 4xx (a NUL byte in a header, a
    malformed request line) is logged by aiohttp as an ERROR with a traceback; the
    client did it and the server is fine: one WARNING line with the status and reason.
    Every other record passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError) or not 400 <= exc.code < 500:
            return True
        lines = (line.strip() for line in str(exc.message).splitlines())
        reason = " ".join(line for line in lines if line.strip("^"))
        if len(reason) > REASON_MAX:
            reason = reason[: REASON_MAX - 3] + "..."
        said = record.getMessage()
        record.msg = "%s: %d %s"
        record.args = (said, exc.code, reason)
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class StartupError(Exception):
    """A setting that keeps the server from starting; its message is one line."""


def ssl_context(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    """A server TLS context for ``--ssl-certfile``/``--ssl-keyfile``; ``None`` for HTTP."""
    if not certfile and not keyfile:
        return None
    if not certfile:
        raise StartupError("--ssl-keyfile needs --ssl-certfile")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile or None)
    except (OSError, ssl.SSLError) as exc:
        raise StartupError(f"cannot use the TLS certificate {certfile}: {exc}") from exc
    return context


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``OSError`` when busy or not allowed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=BACKLOG)


# The listening socket's file descriptor, when a parent bound it (``deepaas-run --reload``
# keeps the port across restarts of the server it runs).
LISTEN_FD_ENV = "DEEPAAS_LITE_LISTEN_FD"


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket handed down by ``--reload``'s supervisor, else a new one on ``host:port``."""
    fd = os.environ.pop(LISTEN_FD_ENV, None)
    if fd is not None and fd.isdigit():
        return socket.socket(fileno=int(fd))
    return bind(host, port)


def exposure_warning(host: str, authenticated: bool) -> str | None:
    """The warning for a server reachable from other machines without authentication."""
    if authenticated or hosts.is_loopback(host):
        return None
    return (
        f"Listening on {host}, reachable from other machines, without authentication "
        "(--auth-token-file): "
        "anyone who can connect can predict, start and cancel trainings and read their "
        "records and logs. See docs/security.md."
    )


def readable_by_others(path: str | Path) -> bool:
    """Whether every user of the machine can read ``path`` (its mode has o+r)."""
    try:
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False


def startup_warnings(settings: Settings) -> list[str]:
    """What the settings leave open that an operator should know about."""
    warnings = []
    if "*" in settings.cors_origins:
        warnings.append(
            "--cors-origin '*': pages of any web site a user of this server visits can "
            "call it from the user's browser: predict, start and cancel trainings. Name "
            "the origins instead (docs/security.md)."
        )
    state = settings.state_dir
    if state.is_dir() and stat.S_IMODE(state.stat().st_mode) & 0o077:
        warnings.append(
            f"The state directory {state} can be entered by other users (mode "
            f"{stat.S_IMODE(state.stat().st_mode):o}); its records hold arguments and its "
            "inputs uploads: chmod 700."
        )
    for path, what in (
        (settings.ssl_keyfile or settings.ssl_certfile, "TLS key"),
        (settings.auth_token_file, "token file"),
    ):
        if path and readable_by_others(path):
            warnings.append(
                f"The {what} {path} can be read by every user of this machine "
                f"(mode {stat.S_IMODE(os.stat(path).st_mode):o}): chmod 600, or 640 with the "
                "server's group (docs/operators.md)."
            )
    return warnings


def run(
    app: web.Application,
    host: str,
    port: int,
    context: ssl.SSLContext | None,
    banner: Callable[[int], str],
    sock: socket.socket | None = None,
) -> int:
    """Serve ``app`` until SIGTERM or SIGINT; the exit status. ``sock``: already bound
    (``deepaas-run`` binds it before loading any model), else bound here."""
    server_log = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(f, RejectedRequests) for f in server_log.filters):
        server_log.addFilter(RejectedRequests())
    if sock is None:
        try:
            sock = listening_socket(host, port)
        except OSError as exc:
            print(cannot_listen(host, port, exc), file=sys.stderr)
            return EXIT_BIND
    return asyncio.run(_serve(app, sock, context, banner, host))


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    """The one line said when ``host:port`` cannot be bound."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"deepaas-run: cannot listen on {host}:{port}: {reason}"


async def _serve(
    app: web.Application,
    sock: socket.socket,
    context: ssl.SSLContext | None,
    banner: Callable[[int], str],
    host: str,
) -> int:
    loop = asyncio.get_running_loop()
    stopping: asyncio.Future[str] = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop, stopping, sig.name)
    from deepaas_lite.web.auth import AUTHENTICATOR  # the app's modules: imported by now
    from deepaas_lite.web.keys import SETTINGS

    settings = app[SETTINGS]
    limits = Limits(settings.header_timeout, settings.body_timeout, settings.idle_timeout)
    options = handler_options(limits)
    runner = web.AppRunner(app, handle_signals=False, **options)
    accepting: asyncio.Task[None] | None = None
    acceptor: Acceptor | None = None
    try:
        await runner.setup()
        server = runner.server
        assert server is not None

        def connection() -> Connection:
            return Connection(server, loop=loop, limits=limits, **options)

        acceptor = Acceptor(
            sock,
            server,
            connection,
            connection_limit(settings.max_connections),
            context,
            handshake_timeout=settings.header_timeout,
        )
        accepting = asyncio.create_task(acceptor.run(), name="accept connections")
        print(banner(sock.getsockname()[1]), flush=True)
        authenticated = AUTHENTICATOR in app
        for warning in [exposure_warning(host, authenticated), *startup_warnings(settings)]:
            if warning is not None:
                LOG.warning("%s", warning)
        accepting.add_done_callback(functools.partial(_accept_ended, stopping))
        reason = await stopping
        LOG.info("Stopping on %s: trainings running now end as interrupted", reason)
    finally:
        if accepting is not None:
            accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await accepting
        sock.close()
        if acceptor is not None:
            await acceptor.close(STOP_GRACE)
        await runner.cleanup()
    LOG.info("deepaas-lite stopped")
    return 0


def _accept_ended(stopping: asyncio.Future[str], accepting: asyncio.Task[None]) -> None:
    """Accepting ends only by failing (or when cancelled at the stop): stop then."""
    if not accepting.cancelled():
        LOG.error("Accepting connections failed: %r", accepting.exception())
        _stop(stopping, "a failure to accept connections")


def _stop(stopping: asyncio.Future[str], reason: str) -> None:
    if not stopping.done():
        stopping.set_result(reason)
