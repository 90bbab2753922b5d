"""The harness of the end-to-end tests (``tests/e2e/server.py``) talks to its own server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import free_port, start, stop, wait_ready


class _Stranger(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"models": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stranger() -> Iterator[int]:
    """Another HTTP server answering 200 on a port: the port it listens on."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Stranger)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_200_from_another_server_on_the_port_is_not_taken_for_ready(
    stranger: int, tmp_path: Path
) -> None:
    server = start(["--model-name", "bare"], tmp_path / "server.log", port=stranger)
    try:
        with pytest.raises(AssertionError, match="exited early"):
            wait_ready(server)
        assert server.process.returncode not in (None, 0)  # it could not listen there
    finally:
        stop(server)
