"""HEAD on every GET route: the GET's status and headers, no body."""

from __future__ import annotations

from typing import Any

import pytest

Client = Any


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v2/",
        "/v2/models/",
        "/v2/models/echo",
        "/v2/models/echo/train/",
        "/v2/health/live",
        "/metrics",
        "/openapi.json",
        "/swagger.json",
        "/ui",
    ],
)
async def test_head_answers_like_get_without_a_body(client: Client, path: str) -> None:
    got = await client.get(path)
    assert got.status == 200
    head = await client.head(path)
    assert head.status == 200
    assert head.content_type == got.content_type
    assert int(head.headers["Content-Length"]) > 0
    assert await head.read() == b""


async def test_head_of_an_unknown_model_is_404(client: Client) -> None:
    resp = await client.head("/v2/models/nope/")
    assert resp.status == 404
    assert await resp.read() == b""


async def test_head_on_a_post_route_is_405(client: Client) -> None:
    resp = await client.head("/v2/models/echo/predict/")
    assert resp.status == 405
    assert "POST" in resp.headers["Allow"]
