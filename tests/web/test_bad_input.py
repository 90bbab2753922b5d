"""Hostile or careless requests: each gets a clear JSON error, nothing runs, nothing is left."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
import pytest

from tests.conftest import ClientFactory

Client = Any
ACCEPTED = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def nested(depth: int) -> str:
    return '{"data": [1], "label": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [2000, 100_000])
async def test_deeply_nested_json_is_400_without_traceback(
    client: Client, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    caplog.set_level(logging.DEBUG)
    resp = await client.post(
        "/v2/models/echo/predict/",
        data=nested(depth),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == 400 and "nested" in body["message"]
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


async def test_json_nested_deeper_than_the_schema_can_load_is_400(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """Deep enough for json.loads, too deep for marshmallow's recursion."""
    tree: dict[str, Any] = {"name": "leaf"}
    for _ in range(400):
        tree = {"name": "n", "child": tree}
    raw = json.dumps({"tree": tree})
    assert json.loads(raw)  # the JSON itself decodes
    resp = await client.post(
        "/v2/models/hardening-tree/predict/",
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 400
    assert "nested" in (await resp.json())["message"]
    assert not [r for r in caplog.records if r.exc_info]


async def test_moderately_nested_json_still_works(client: Client) -> None:
    tree: dict[str, Any] = {"name": "leaf"}
    for _ in range(30):
        tree = {"name": "n", "child": tree}
    resp = await client.post("/v2/models/hardening-tree/predict/", json={"tree": tree})
    assert resp.status == 200
    assert (await resp.json())["predictions"] == {"depth": 31}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_json_numbers_json_cannot_hold_are_400(client: Client, literal: str) -> None:
    resp = await client.post(
        "/v2/models/echo/predict/",
        data='{"data": [' + literal + "]}",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 400
    assert (await resp.json())["code"] == 400


async def _raw_post(
    client: Client, path: str, headers: dict[str, str], first_chunk: bytes
) -> tuple[int, dict[str, Any]]:
    """Send the headers and only the start of the body; the answer must come anyway."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode() + first_chunk)
        await writer.drain()
        # A generous deadline only so that a regression fails instead of hanging.
        status_line = await asyncio.wait_for(reader.readline(), 60)
        response_headers: dict[str, str] = {}
        while (line := await asyncio.wait_for(reader.readline(), 60)) not in (b"\r\n", b""):
            key, _, value = line.decode().partition(":")
            response_headers[key.strip().lower()] = value.strip()
        length = int(response_headers["content-length"])
        body = await asyncio.wait_for(reader.readexactly(length), 60)
        return int(status_line.split()[1]), json.loads(body)
    finally:
        writer.close()


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain", "image/png"])
async def test_body_of_an_unread_type_is_415_without_reading_it(
    client: Client, content_type: str
) -> None:
    status, body = await _raw_post(
        client,
        "/v2/models/echo/predict/?data=1",
        {"Content-Type": content_type, "Content-Length": str(50 * 1024 * 1024)},
        b"x" * 1000,
    )
    assert status == 415
    assert body["code"] == 415
    assert content_type in body["message"]
    for accepted in ACCEPTED:
        assert accepted in body["message"]


async def test_chunked_body_of_an_unread_type_is_415(client: Client) -> None:
    status, body = await _raw_post(
        client,
        "/v2/models/echo/predict/?data=1",
        {"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"},
        b"400\r\n" + b"x" * 0x400 + b"\r\n",
    )
    assert status == 415
    assert body["code"] == 415


async def test_train_body_of_an_unread_type_is_415(client: Client) -> None:
    resp = await client.post(
        "/v2/models/train-sleeper/train/",
        data=b"\x00\x01",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert resp.status == 415
    assert (await client.get("/v2/models/train-sleeper/train/")).status == 200
    assert await (await client.get("/v2/models/train-sleeper/train/")).json() == []


@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/json"])
async def test_declared_length_over_client_max_size_is_413_without_reading(
    make_client: ClientFactory, content_type: str
) -> None:
    client = await make_client(client_max_size=4096)
    status, body = await _raw_post(
        client,
        "/v2/models/echo/predict/?data=1",
        {"Content-Type": content_type, "Content-Length": str(120 * 1024 * 1024)},
        b"x" * 100,
    )
    assert status == 413
    assert body["code"] == 413


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Length": "0"}, {"Content-Type": "application/octet-stream"}],
)
async def test_no_body_still_works(client: Client, headers: dict[str, str]) -> None:
    resp = await client.post("/v2/models/echo/predict/?data=1", data=b"", headers=headers)
    assert resp.status == 200
    assert (await resp.json())["predictions"]["data"] == [1.0]


async def test_json_with_parameters_and_suffix_is_read(client: Client) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        resp = await client.post(
            "/v2/models/echo/predict/",
            data=b'{"data": [2]}',
            headers={"Content-Type": content_type},
        )
        assert resp.status == 200, content_type


async def test_list_of_files_given_a_text_part_is_422(client: Client) -> None:
    form = aiohttp.FormData()
    form.add_field("more", b"real", filename="a.txt")
    form.add_field("more", "/etc/passwd")
    resp = await client.post("/v2/models/hardening-files/predict/", data=form)
    assert resp.status == 422
    assert list((await resp.json())["errors"]) == ["more"]


@pytest.mark.parametrize("how", ["query", "urlencoded", "multipart", "multipart-bytes", "json"])
async def test_file_arguments_given_text_are_422(client: Client, how: str) -> None:
    path = "/v2/models/hardening-files/predict/"
    for name in ("one", "more"):
        if how == "query":
            resp = await client.post(f"{path}?{name}=/etc/passwd")
        elif how == "urlencoded":
            resp = await client.post(path, data={name: "/etc/passwd"})
        elif how == "json":
            value: Any = "/etc/passwd" if name == "one" else ["/etc/passwd"]
            resp = await client.post(path, json={name: value})
        else:  # a part without a file name: text, or bytes for a non-text type
            content_type = "text/plain" if how == "multipart" else "application/octet-stream"
            form = aiohttp.FormData()
            form.add_field(name, "/etc/passwd", content_type=content_type)
            resp = await client.post(path, data=form)
        assert resp.status == 422, (how, name)
        assert list((await resp.json())["errors"]) == [name], (how, name)


async def test_files_reach_the_plugin(client: Client) -> None:
    form = aiohttp.FormData()
    form.add_field("one", b"first", filename="1.txt")
    form.add_field("more", b"second", filename="2.txt")
    form.add_field("more", b"third", filename="3.txt")
    resp = await client.post("/v2/models/hardening-files/predict/", data=form)
    assert resp.status == 200
    assert (await resp.json())["predictions"] == {"one": "first", "more": ["second", "third"]}


async def _status_lines_before_sending(client: Client, headers: dict[str, str]) -> bytes:
    """The first status line the server sends while the client holds the body back."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        head = "POST /v2/models/echo/predict/?data=1 HTTP/1.1\r\nHost: localhost\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode())
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 60)
    finally:
        writer.close()


async def test_expect_continue_refuses_an_unread_type_before_it_is_sent(client: Client) -> None:
    line = await _status_lines_before_sending(
        client,
        {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(50 * 1024 * 1024),
            "Expect": "100-continue",
        },
    )
    assert line.split()[1] == b"415"


async def test_expect_continue_refuses_a_body_too_large_before_it_is_sent(
    make_client: ClientFactory,
) -> None:
    client = await make_client(client_max_size=4096)
    line = await _status_lines_before_sending(
        client,
        {
            "Content-Type": "application/json",
            "Content-Length": "5000",
            "Expect": "100-continue",
        },
    )
    assert line.split()[1] == b"413"


async def test_expect_continue_lets_a_readable_body_in(client: Client) -> None:
    line = await _status_lines_before_sending(
        client,
        {"Content-Type": "application/json", "Content-Length": "13", "Expect": "100-continue"},
    )
    assert line.split()[1] == b"100"
    resp = await client.post("/v2/models/echo/predict/", json={"data": [3]}, expect100=True)
    assert resp.status == 200
    assert (await resp.json())["predictions"]["data"] == [3.0]
