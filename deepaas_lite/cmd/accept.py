"""Accepting connections: at most ``max_connections`` open, and calm when out of files.

asyncio's own accept loop takes every connection the kernel has queued, and when the
process is out of file descriptors logs an ERROR with a traceback for each try (tens
of thousands of lines a minute). Here, at the limit of open connections the server
stops accepting: new clients wait in the kernel's listen queue until one closes. Out of
descriptors anyway (other files, a limit set above ``ulimit -n``), it waits a moment
and tries again, and says so in one line at most every ``REPORT_EVERY`` seconds.

At a stop, a connection made but whose request has not come yet is given a moment
(``STOP_GRACE`` in ``serve``) to send it, and is answered: under ``--reload``, the
clients of a restart are all answered, by the old server or from the backlog by the new.

With TLS, a client that speaks plain HTTP to the port is answered in plain HTTP, a 400
telling it to use https://, instead of a handshake failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import resource
import socket
import ssl
import time
from collections.abc import Callable

from aiohttp import web

from deepaas_lite.web.connection import Connection

LOG = logging.getLogger("deepaas_lite.connections")

# Descriptors ``--max-connections 0`` keeps for the server's own files, pipes and children.
RESERVED_FILES = 100
# Seconds between two tries to accept when out of descriptors.
RETRY_EVERY = 0.1
# Seconds between two lines saying the server is out of descriptors.
REPORT_EVERY = 10.0
# Seconds a connection at the limit waits before looking again.
FULL_WAIT = 0.02
# Seconds between two looks at the connections a stop waits for.
SETTLE_TICK = 0.02
_OUT_OF_FILES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_CLIENT_GONE = {errno.ECONNABORTED, errno.EPROTO, errno.ECONNRESET, errno.EPERM}
_TLS_HANDSHAKE = 0x16


def open_files_limit() -> int:
    """The process's soft limit of open files (``ulimit -n``)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connection_limit(max_connections: int) -> int:
    """``--max-connections``, 0 meaning the open-file limit less ``RESERVED_FILES``."""
    if max_connections:
        return max_connections
    return max(1, open_files_limit() - RESERVED_FILES)


class OutOfFiles:
    """Says, at most once every ``REPORT_EVERY`` seconds, that accepting failed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._since = 0
        self._said_at: float | None = None

    def failed(self, open_connections: int) -> None:
        self._since += 1
        now = self._clock()
        if self._said_at is not None and now - self._said_at < REPORT_EVERY:
            return
        LOG.warning(
            "Out of file descriptors (ulimit -n %d): %d tries to accept a connection "
            "failed since the last such line; %d connections open. New clients wait. "
            "Raise the limit or lower --max-connections (docs/operators.md)",
            open_files_limit(),
            self._since,
            open_connections,
        )
        self._said_at = now
        self._since = 0


class Acceptor:
    """Accepts connections on ``sock`` for ``server`` (aiohttp's low-level server),
    each handled by a protocol from ``factory``."""

    def __init__(
        self,
        sock: socket.socket,
        server: web.Server,
        factory: Callable[[], asyncio.Protocol],
        limit: int,
        context: ssl.SSLContext | None = None,
        handshake_timeout: float = 10.0,
    ) -> None:
        self._sock = sock
        self._server = server
        self._factory = factory
        self._limit = limit
        self._context = context
        self._handshake_timeout = handshake_timeout or 60.0
        self._starting: set[asyncio.Task[None]] = set()
        self._out_of_files = OutOfFiles()

    def _open(self) -> int:
        return len(self._server.connections) + len(self._starting)

    async def run(self) -> None:
        """Accept until cancelled. Accepting itself never awaits (``loop.sock_accept``
        would): a cancellation between the kernel's accept and the connection's start
        would lose an accepted connection, closed under its client's request."""
        self._sock.setblocking(False)
        while True:
            while self._open() >= self._limit:
                await asyncio.sleep(FULL_WAIT)
            try:
                conn, _ = self._sock.accept()
            except BlockingIOError:
                await readable(self._sock.fileno())
                continue
            except OSError as exc:
                if exc.errno in _OUT_OF_FILES:
                    self._out_of_files.failed(self._open())
                    await asyncio.sleep(RETRY_EVERY)
                    continue
                if exc.errno in _CLIENT_GONE:
                    continue
                raise
            self._start(conn)

    def _start(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = asyncio.create_task(self._connect(conn))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _connect(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self._context is not None:
                if not await self._speaks_tls(conn):
                    return
                await loop.connect_accepted_socket(
                    self._factory,
                    conn,
                    ssl=self._context,
                    ssl_handshake_timeout=self._handshake_timeout,
                )
            else:
                await loop.connect_accepted_socket(self._factory, conn)
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            LOG.debug("Connection dropped before its first request: %r", exc)
            conn.close()

    async def _speaks_tls(self, conn: socket.socket) -> bool:
        """Whether the client's first byte starts a TLS handshake; a plain HTTP client
        is answered 400 and the connection closed."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(readable(conn.fileno()), self._handshake_timeout)
        except TimeoutError:
            conn.close()
            return False
        try:
            first = conn.recv(1, socket.MSG_PEEK)
        except OSError:
            conn.close()
            return False
        if not first or first[0] == _TLS_HANDSHAKE:
            return bool(first) or _closed(conn)
        port = conn.getsockname()[1]
        message = f"This port speaks HTTPS: use https://<host>:{port}/ (the request was plain HTTP)"
        body = json.dumps({"code": 400, "message": message}).encode()
        head = (
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            await loop.sock_sendall(conn, head.encode() + body)
            conn.shutdown(socket.SHUT_WR)
        conn.close()
        return False

    async def close(self, grace: float = 0.0) -> None:
        """Stop (``run`` is cancelled first). The connections already made get ``grace``
        seconds to send the request they were opened for: those still starting (a TLS
        handshake) and those that have sent no request yet, or part of a head (a
        client sends its request right after connecting; closing the connection in
        between would fail that request). Those still starting then are dropped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while True:
            connections = [c for c in self._server.connections if isinstance(c, Connection)]
            for connection in connections:
                connection.stop()
            waiting = self._starting or any(c.asking for c in connections)
            if not waiting or loop.time() >= deadline:
                break
            await asyncio.sleep(SETTLE_TICK)
        for task in list(self._starting):
            task.cancel()
        await asyncio.gather(*self._starting, return_exceptions=True)


async def readable(fd: int) -> None:
    """Wait until ``fd`` can be read (or accepted from)."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


def _closed(conn: socket.socket) -> bool:
    conn.close()
    return False
