"""Stopping ``deepaas-run`` (SIGTERM, or a ``--reload`` restart) answers the requests
its clients had begun: a connection the server had accepted is not closed under a
request on its way."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import signal
import socket
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from deepaas_lite.cmd.accept import Acceptor
from tests.e2e.server import Server, running, start, stop, wait_ready

MODELS = b"GET /v2/models/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
PREDICT = (
    b"POST /v2/models/live_plugin/predict/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
)
PLUGIN = 'def predict():\n    return "{version}"\n'


def connect(server: Server) -> socket.socket:
    url = urlsplit(server.url)
    assert url.hostname and url.port
    conn = socket.create_connection((url.hostname, url.port), timeout=30)
    return conn


def answer(conn: socket.socket) -> http.client.HTTPResponse:
    """The response to the request sent on ``conn``, read whole."""
    response = http.client.HTTPResponse(conn)
    response.begin()
    response.read()
    return response


def test_a_request_begun_before_sigterm_is_answered(tmp_path: Path) -> None:
    args = ["--model-name", "echo", "--state-dir", str(tmp_path / "state")]
    server = start(args, tmp_path / "log")
    try:
        wait_ready(server)
        with connect(server) as conn:
            conn.sendall(MODELS)
            assert answer(conn).status == 200  # the connection is the server's
            conn.sendall(MODELS[:20])  # a second request, its head in part
            server.process.send_signal(signal.SIGTERM)
            server.wait_for_log("Stopping on SIGTERM")
            conn.sendall(MODELS[20:])
            response = answer(conn)
            assert response.status == 200, server.output()
            assert response.getheader("Connection") == "close"
        assert server.process.wait(30) == 0, server.output()
    finally:
        stop(server)


def test_a_connection_made_before_a_reload_is_answered(tmp_path: Path) -> None:
    path = tmp_path / "src" / "live_plugin.py"
    path.parent.mkdir()
    path.write_text(PLUGIN.format(version="v1"))
    args = ["--state-dir", str(tmp_path / "state"), "--plugin", str(path), "--reload"]
    with running(args, tmp_path / "log") as server, connect(server) as conn:
        # The running server accepts the connection; its request is sent once the
        # restart has begun.
        path.write_text(PLUGIN.format(version="v2"))
        server.wait_for_log("Reloading: live_plugin.py changed")
        conn.sendall(PREDICT)
        response = answer(conn)
        assert response.status == 200, server.output()


async def test_a_connection_accepted_as_accepting_is_cancelled_is_not_lost() -> None:
    """The stop cancels the accept loop at any turn of the event loop; whatever the
    turn, a connection the kernel had is either started or still in the backlog (for
    the next server, under ``--reload``), never accepted and dropped."""

    async def hello(request: web.BaseRequest) -> web.Response:
        return web.Response(text="hello")

    for turns in range(6):
        server = web.Server(hello)
        with socket.create_server(("127.0.0.1", 0)) as listening:
            acceptor = Acceptor(listening, server, server, limit=10)
            accepting = asyncio.create_task(acceptor.run())
            await asyncio.sleep(0.05)  # waiting for a connection
            with socket.create_connection(listening.getsockname()):
                for _ in range(turns):
                    await asyncio.sleep(0)
                accepting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await accepting
                await acceptor.close()
                started = len(server.connections)
                try:
                    waiting, _ = listening.accept()
                except BlockingIOError:
                    waiting = None
                if waiting is not None:
                    waiting.close()
                assert (started, waiting is not None) in {(1, False), (0, True)}, turns
                await server.shutdown(1.0)
