"""Non-JSON outputs: bytes, str, an open binary file or a path."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from deepaas_lite import exceptions
from deepaas_lite.web.predict import raw_response


def test_bytes_and_text() -> None:
    assert raw_response(b"\x00\x01", "image/png").body == b"\x00\x01"
    resp = raw_response("plain text", "text/plain")
    assert resp.body == b"plain text"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"  # UTF-8 said


def test_open_file_is_read_and_closed(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"file content")
    handle = open(path, "rb")  # noqa: SIM115 - the server closes it
    assert raw_response(handle, "application/octet-stream").body == b"file content"
    assert handle.closed
    buffer = io.BytesIO(b"in memory")
    assert raw_response(buffer, "application/octet-stream").body == b"in memory"
    assert buffer.closed


def test_path_is_read(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"PNGDATA")
    assert raw_response(path, "image/png").body == b"PNGDATA"


def test_str_is_text_even_when_it_names_a_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"SECRET")
    assert raw_response(str(path), "text/plain").body == str(path).encode()
    assert (
        raw_response(str(tmp_path / "missing"), "text/plain").body
        == str(tmp_path / "missing").encode()
    )


async def test_echoed_path_is_not_read_over_http(client: Any, tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"SECRET")
    for text in (str(path), "/etc/passwd", "/proc/self/environ"):
        resp = await client.post("/v2/models/hardening-text/predict/", params={"text": text})
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        assert await resp.read() == text.encode()


def test_other_types_are_an_error() -> None:
    with pytest.raises(exceptions.InvalidResponse):
        raw_response({"a": 1}, "text/plain")
