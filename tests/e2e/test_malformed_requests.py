"""A real deepaas-run: a request its HTTP parser rejects is a JSON 400 (431 for a header
too long) and one log line, never an ERROR with a traceback (a 4xx is the client's
doing)."""

from __future__ import annotations

import logging
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from aiohttp.http_exceptions import BadHttpMessage, HttpProcessingError

from deepaas_lite.cmd.serve import RejectedRequests
from tests.e2e.server import Server, running

GOOD = b"GET /v2/models/ HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("malformed")
    args = ["--model-name", "echo", "--state-dir", str(tmp / "state")]
    with running(args, tmp / "server.log") as started:
        yield started


def _exchange(server: Server, *requests: bytes) -> bytes:
    """Send ``requests`` on one kept-alive connection, each once the answer to the one
    before has come; everything the server answered, until it closed the connection."""
    where = urlsplit(server.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        received = b""
        for request in requests[:-1]:
            sock.sendall(request)
            received += _one_answer(sock)
        sock.sendall(requests[-1])
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _one_answer(sock: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        assert chunk, answer
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().splitlines()
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, answer
        body += chunk
    return head + b"\r\n\r\n" + body


def _logged_since(server: Server, before: str) -> list[str]:
    """The lines logged since the log was ``before``, once a marked request, sent now,
    has its access line (the server logs from one thread, in order)."""
    marker = f"mark-{uuid.uuid4().hex}"
    assert server.request("GET", "/v2/models/", headers={"X-Request-ID": marker})[0] == 200
    deadline = time.monotonic() + 30
    while marker not in (text := server.output()[len(before) :]):
        assert time.monotonic() < deadline, f"no access line for {marker}:\n{text}"
        time.sleep(0.05)
    return text[: text.index(marker)].splitlines()


@pytest.mark.parametrize(
    ("name", "requests"),
    [
        (
            "a NUL byte in a header",
            [b"GET /v2/models/ HTTP/1.1\r\nHost: a\r\nX-Bad: a\x00b\r\n\r\n"],
        ),
        ("a header line without a colon", [b"GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n"]),
        ("an invalid Content-Length", [b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n"]),
        ("an invalid HTTP version", [b"GET / HTTP/1.x\r\nHost: a\r\n\r\n"]),
        (
            "a header line too long",
            [b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n"],
        ),
        ("an invalid method after a good request", [GOOD, b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n"]),
    ],
)
def test_a_rejected_request_is_400_and_one_line_without_traceback(
    server: Server, name: str, requests: list[bytes]
) -> None:
    before = server.output()
    answer = _exchange(server, *requests)
    status = b"431" if name == "a header line too long" else b"400"
    assert answer.count(b" " + status + b" ") == 1, (name, answer)
    assert answer.rsplit(b"\r\n\r\n", 1)[1].startswith(b'{"code": '), (name, answer)
    lines = _logged_since(server, before)
    assert not any("Traceback" in line for line in lines), (name, lines)
    assert not any(" ERROR " in line for line in lines), (name, lines)
    rejected = [line for line in lines if "aiohttp.server" in line]
    assert len(rejected) == 1, (name, lines)
    assert " WARNING " in rejected[0] and status.decode() in rejected[0], rejected
    # The server serves on.
    assert server.request("GET", "/v2/models/")[0] == 200


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling request from %s",
        ("127.0.0.1",),
        exc_info,
    )


def test_only_a_4xx_from_the_parser_is_made_one_line() -> None:
    rejected = _record(BadHttpMessage("Invalid header value char:\n\n  b'a\\x00'\n   ^"))
    assert RejectedRequests().filter(rejected)
    assert (rejected.levelname, rejected.exc_info) == ("WARNING", None)
    assert rejected.getMessage() == (
        "Error handling request from 127.0.0.1: 400 Invalid header value char: b'a\\x00'"
    )
    for other in (HttpProcessingError(code=500, message="broken"), RuntimeError("bug")):
        kept = _record(other)
        assert RejectedRequests().filter(kept)
        assert kept.levelname == "ERROR" and kept.exc_info is not None
        assert kept.getMessage() == "Error handling request from 127.0.0.1"
