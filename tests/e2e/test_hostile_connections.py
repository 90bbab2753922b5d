"""A real deepaas-run against connections an attacker opens: half a header, a body
that never comes, more connections than there are file descriptors, requests aiohttp's
HTTP parser refuses, plain HTTP to the HTTPS port."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme

from tests.e2e.server import Server, free_port, running, start, stop, wait_ready

HALF_HEADER = b"GET /v2/models/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


def _address(server: Server) -> tuple[str, int]:
    where = urlsplit(server.url)
    assert where.hostname is not None and where.port is not None
    return where.hostname, where.port


def _closed_by_server(sock: socket.socket, timeout: float = 60) -> bytes:
    """What the server sent before closing ``sock``; fails if it never closes it."""
    sock.settimeout(timeout)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """One answer's head and body (by its Content-Length)."""
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.lower().splitlines()
        if line.startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, data
        body += chunk
    return head, body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("connections")
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp / "state"),
        "--header-timeout",
        "1",
        "--body-timeout",
        "1",
    ]
    with running(args, tmp / "server.log") as started:
        yield started


def test_half_a_header_is_closed_after_the_header_timeout(server: Server) -> None:
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(HALF_HEADER)
        assert _closed_by_server(sock) == b""


def test_a_header_sent_a_byte_at_a_time_is_closed_too(server: Server) -> None:
    """The header timeout runs from the request's first byte, not from the last one."""
    with socket.create_connection(_address(server)) as sock:
        closed = False
        for byte in HALF_HEADER:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.1)
        if not closed:
            try:
                closed = _closed_by_server(sock) == b""
            except ConnectionResetError:
                closed = True
        assert closed


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with socket.create_connection(_address(server)) as sock:
        assert _closed_by_server(sock) == b""


def test_a_body_that_stops_coming_is_408(server: Server) -> None:
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(
            b"POST /v2/models/echo/predict/ HTTP/1.1\r\nHost: localhost\r\n"
            b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"data": ['
        )
        head, body = _answer(sock)
    assert head.startswith(b"HTTP/1.1 408"), head
    assert json.loads(body)["code"] == 408


def test_a_kept_alive_connection_between_requests_is_not_the_header_timeout(
    server: Server,
) -> None:
    """Idle between requests is --idle-timeout's, not --header-timeout's."""
    with socket.create_connection(_address(server)) as sock:
        for _ in range(2):
            sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head, _ = _answer(sock)
            assert head.startswith(b"HTTP/1.1 200"), head
            time.sleep(2.5)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /v2/models/?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
        (
            b"GET /v2/models/ HTTP/1.1\r\nHost: localhost\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
            431,
        ),
        (
            b"GET /v2/models/ HTTP/1.1\r\nHost: localhost\r\n"
            + b"".join(b"X-H%d: a\r\n" % i for i in range(200))
            + b"\r\n",
            431,
        ),
        (b"GET /v2/models/ HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n", 400),
    ],
    ids=["uri-too-long", "header-too-long", "too-many-headers", "malformed-header"],
)
def test_what_the_http_parser_refuses_is_a_json_error(
    server: Server, request_bytes: bytes, status: int
) -> None:
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(request_bytes)
        head, body = _answer(sock)
    assert head.split(b" ", 2)[1] == str(status).encode(), head
    assert b"content-type: application/json" in head.lower(), head
    answer = json.loads(body)
    assert answer["code"] == status and answer["message"], answer


def _open_half_headers(address: tuple[str, int], count: int) -> list[socket.socket]:
    """``count`` connections that each sent half a header (those the kernel took)."""
    opened = []
    for _ in range(count):
        sock = socket.socket()
        sock.settimeout(0.5)
        try:
            sock.connect(address)
            sock.sendall(HALF_HEADER)
        except OSError:
            sock.close()
            continue
        opened.append(sock)
    return opened


@pytest.mark.parametrize("max_connections", ["0", "1000"])
def test_more_connections_than_descriptors(tmp_path: Path, max_connections: str) -> None:
    """With 'ulimit -n 200': 300 half-header connections. The server keeps serving (at
    its --max-connections, by default the limit less a reserve, it stops accepting; set
    above the limit, it runs out of descriptors and says so in one line now and then),
    and writes no traceback."""
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp_path / "state"),
        "--header-timeout",
        "2",
        "--max-connections",
        max_connections,
    ]
    server = start(args, tmp_path / "server.log", wrapper=["prlimit", "--nofile=200:200"])
    opened: list[socket.socket] = []
    try:
        wait_ready(server, path="/v2/health/ready")  # echo's worker started
        opened = _open_half_headers(_address(server), 300)
        assert len(opened) > 150
        status, _, _ = server.request("GET", "/v2/health/live")
        assert status == 200
        status, answer = server.json(
            "POST",
            "/v2/models/echo/predict/",
            body=b'{"data": [1]}',
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, answer
    finally:
        for sock in opened:
            sock.close()
        stop(server)
    log = server.output()
    assert "Traceback" not in log, log[-3000:]
    descriptor_lines = [line for line in log.splitlines() if "file descriptors" in line]
    if max_connections == "1000":
        assert 1 <= len(descriptor_lines) <= 5, descriptor_lines
        assert "ulimit -n" in descriptor_lines[0]
    else:
        assert descriptor_lines == [], descriptor_lines


def _https_live(port: int, ca: ssl.SSLContext) -> bool:
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            ca.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head, _ = _answer(tls)
            return head.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def test_plain_http_to_the_https_port_gets_a_clear_answer(tmp_path: Path) -> None:
    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    (tmp_path / "server.key").chmod(0o600)
    port = free_port()
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp_path / "state"),
        "--ssl-certfile",
        str(tmp_path / "server.pem"),
        "--ssl-keyfile",
        str(tmp_path / "server.key"),
    ]
    server = start(args, tmp_path / "server.log", port=port)
    try:
        ca = ssl.create_default_context()
        authority.configure_trust(ca)
        deadline = time.monotonic() + 60
        while not _https_live(port, ca):
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /v2/models/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head, body = _answer(sock)
        assert head.startswith(b"HTTP/1.1 400"), head
        message = json.loads(body)["message"]
        assert "https://" in message, message
    finally:
        stop(server)
