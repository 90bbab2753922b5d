"""A large JSON or urlencoded body is decoded and validated off the event loop."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest

from deepaas_lite.web import json_process, parsing
from tests.conftest import ClientFactory


@pytest.fixture
def decoded_in(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each JSON body decoded in this process: whether it was on the loop's thread."""
    on_loop: list[bool] = []
    real = parsing.json_object

    def recording(raw: bytes, stepwise: bool = False) -> dict[str, Any]:
        on_loop.append(threading.current_thread() is threading.main_thread())
        return real(raw, stepwise)

    monkeypatch.setattr(parsing, "json_object", recording)
    return on_loop


async def test_large_json_body_is_decoded_in_another_process(
    make_client: ClientFactory, decoded_in: list[bool]
) -> None:
    client = await make_client()
    small = {"data": [1.5, 2.5]}
    large = {"data": [1.5] * (parsing.OFF_LOOP_BYTES // 4)}
    for body in (small, large):
        resp = await client.post("/v2/models/echo/predict/", json=body)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["predictions"]["data"] == body["data"]
    assert decoded_in == [True]  # the small one here, on the loop; the large one elsewhere
    worker = json_process._executor()
    pids = [process.pid for process in worker._processes.values()]
    assert pids and os.getpid() not in pids


async def test_a_large_body_with_unknown_keys_is_422_from_the_worker(
    make_client: ClientFactory, decoded_in: list[bool]
) -> None:
    client = await make_client()
    body = {"data": [1.5], "padding": [1.5] * parsing.OFF_LOOP_BYTES}
    resp = await client.post("/v2/models/echo/predict/", json=body)
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["errors"] == {"padding": ["Unknown field."]}
    assert decoded_in == []


async def test_large_urlencoded_body_is_read_off_the_loop(make_client: ClientFactory) -> None:
    client = await make_client()
    count = parsing.OFF_LOOP_BYTES // 8
    resp = await client.post(
        "/v2/models/echo/predict/",
        data="&".join(["data=1.5"] * count),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 200, await resp.text()
    assert len((await resp.json())["predictions"]["data"]) == count


async def test_malformed_large_json_body_is_400(make_client: ClientFactory) -> None:
    client = await make_client()
    body = json.dumps({"data": [1.5] * parsing.OFF_LOOP_BYTES}).encode()[:-1]
    resp = await client.post(
        "/v2/models/echo/predict/", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400, await resp.text()


async def test_a_list_of_the_wrong_length_is_refused_before_its_items_are_read(
    make_client: ClientFactory,
) -> None:
    """iris's data is exactly 4 numbers: 100,000 items that are no numbers are one
    length error, found without reading them."""
    client = await make_client()
    resp = await client.post("/v2/models/iris-deepaas/predict/", json={"data": ["x"] * 100_000})
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["errors"] == {"data": ["Length must be 4."]}
