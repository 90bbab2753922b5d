"""The shapes a browser's form (Swagger UI's) sends, read as the equivalent JSON body.

Swagger UI sends an object argument as a ``Blob`` part (a "file" named ``blob`` of type
application/json), and an empty file input as an empty text part.
"""

from __future__ import annotations

from typing import Any

import aiohttp

Client = Any
PREDICT = "/v2/models/kinds/predict/"


async def _answer(client: Client, **kwargs: Any) -> Any:
    resp = await client.post(PREDICT, **kwargs)
    assert resp.status == 200, await resp.text()
    return (await resp.json())["predictions"]


async def test_an_object_sent_as_a_json_blob_part_is_the_object(client: Client) -> None:
    form = aiohttp.FormData()
    form.add_field("numbers", "1.5")
    form.add_field("numbers", "2")
    form.add_field("point", b'{"x": 1, "y": 2}', filename="blob", content_type="application/json")
    form.add_field("tags", b'{"a": 1}', filename="blob", content_type="application/json")
    got = await _answer(client, data=form)
    expected = await _answer(
        client, json={"numbers": [1.5, 2], "point": {"x": 1, "y": 2}, "tags": {"a": 1}}
    )
    assert got == expected
    assert got["point"] == {"x": 1.0, "y": 2.0} and got["tags"] == {"a": 1}


async def test_an_empty_file_input_is_no_file(client: Client) -> None:
    form = aiohttp.FormData()
    form.add_field("numbers", "1")
    form.add_field("upload", "")
    form.add_field("upload", b"", filename="", content_type="application/octet-stream")
    got = await _answer(client, data=form)
    assert got == await _answer(client, json={"numbers": [1]})
    assert "upload" not in got


async def test_text_for_a_file_is_still_refused(client: Client) -> None:
    form = aiohttp.FormData()
    form.add_field("numbers", "1")
    form.add_field("upload", "not a file")
    resp = await client.post(PREDICT, data=form)
    assert resp.status == 422
    assert set((await resp.json())["errors"]) == {"upload"}
