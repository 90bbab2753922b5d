"""A real deepaas-run against bodies an attacker sends: a JSON body has a limit of its
own (``--json-max-size``), a large one is parsed off the event loop, and
``Expect: 100-continue`` is answered only to a client the token and Host checks let in."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import Server, running

TOKEN = "body-token"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("bodies")
    (tmp / "tokens").write_text(TOKEN + "\n")
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp / "state"),
        "--auth-token-file",
        str(tmp / "tokens"),
        "--json-max-size",
        str(2 * MIB),
    ]
    with running(args, tmp / "server.log") as started:
        yield started


def _post(server: Server, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    status, _, answer = server.request(
        "POST",
        "/v2/models/echo/predict/",
        body=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {TOKEN}"},
    )
    return status, json.loads(answer)


def _numbers(size: int) -> bytes:
    """A JSON object of about ``size`` bytes: a list of floats under ``data``."""
    count = size // len("1.25, ")
    return json.dumps({"data": [1.25] * count}).encode()


def test_json_body_over_its_own_limit_is_413_before_reading(server: Server) -> None:
    status, answer = _post(server, _numbers(3 * MIB))
    assert status == 413, answer
    assert "--json-max-size" in answer["message"]
    assert "multipart" in answer["message"]


def test_urlencoded_body_over_the_json_limit_is_413(server: Server) -> None:
    body = b"data=1.5&" * (3 * MIB // 9)
    status, answer = _post(server, body, "application/x-www-form-urlencoded")
    assert status == 413, answer


def test_chunked_json_body_over_the_limit_is_413(server: Server) -> None:
    """No Content-Length: the limit holds while the body is read."""
    where = urlsplit(server.url)
    body = _numbers(3 * MIB)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v2/models/echo/predict/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            + f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        try:
            for start in range(0, len(body), 65536):
                chunk = body[start : start + 65536]
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before the whole body was sent
        answer = b""
        while b"\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]


def test_large_json_body_under_the_limit_is_read(server: Server) -> None:
    body = _numbers(MIB + MIB // 2)
    status, answer = _post(server, body)
    assert status == 200, answer
    assert len(answer["predictions"]["data"]) == len(json.loads(body)["data"])


def test_large_invalid_body_names_a_bounded_number_of_errors(server: Server) -> None:
    count = MIB // len('"x", ')
    status, answer = _post(server, json.dumps({"data": ["x"] * count}).encode())
    assert status == 422, answer
    errors = answer["errors"]["data"]
    assert len(errors) <= 21, len(errors)
    assert any("more" in str(message) for message in errors.values()), errors


def _expect(server: Server, headers: bytes) -> bytes:
    """The server's first answer to a POST announcing a body with Expect: 100-continue."""
    where = urlsplit(server.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v2/models/echo/predict/ HTTP/1.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 50000\r\n"
            b"Expect: 100-continue\r\n" + headers + b"\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_expect_continue_without_a_token_is_401_at_once(server: Server) -> None:
    answer = _expect(server, b"Host: localhost\r\n")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_expect_continue_from_a_refused_host_is_403_at_once(server: Server) -> None:
    answer = _expect(
        server, b"Host: evil.example\r\n" + f"Authorization: Bearer {TOKEN}\r\n".encode()
    )
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]


def test_expect_continue_with_a_token_is_invited(server: Server) -> None:
    answer = _expect(server, b"Host: localhost\r\n" + f"Authorization: Bearer {TOKEN}\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 100 Continue"), answer[:200]
