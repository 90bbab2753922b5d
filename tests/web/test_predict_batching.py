"""Adaptive batching of plugins with ``predict_batch``, through real HTTP."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from deepaas_lite.config import ModelOptions, Settings
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi.openapi3 import build_openapi3
from deepaas_lite.web.app import _serving_info
from deepaas_lite.web.routes import ROUTES
from tests.conftest import ClientFactory

Client = Any
BOTH = "/v2/models/batch-both/predict/"
ONLY = "/v2/models/batch-only/predict/"


async def _concurrently(client: Client, path: str, *params: dict[str, str]) -> list[Any]:
    """Each answer's status and body (without an error's request id, which differs)."""
    answers = await asyncio.gather(*(client.post(path, params=p) for p in params))
    bodies = [await a.json() for a in answers]
    for body in bodies:
        body.pop("request_id", None)
    return [(a.status, body) for a, body in zip(answers, bodies, strict=True)]


async def test_concurrent_requests_share_calls(
    client: Client, models: dict[str, ModelWrapper]
) -> None:
    plugin = models["batch-both"].plugin
    before = plugin.batch_calls
    answers = await _concurrently(client, BOTH, *({"x": str(i)} for i in range(16)))
    assert [status for status, _ in answers] == [200] * 16
    outputs = [body["predictions"] for _, body in answers]
    assert [(o["x"], o["double"]) for o in outputs] == [(i, 2 * i) for i in range(16)]
    calls = plugin.batch_calls - before
    assert 2 <= calls < 16  # the plugin's max_batch_size is 8
    assert max(o["batch"] for o in outputs) == 8


async def test_one_request_fails_alone(client: Client) -> None:
    params = [{"x": "1"}, {"x": "2", "fail": "one"}, {"x": "3"}]
    answers = await _concurrently(client, BOTH, *params)
    assert answers[1] == (500, {"code": 500, "message": "x=2 is not welcome"})
    assert [answers[0][0], answers[2][0]] == [200, 200]
    assert answers[0][1]["predictions"]["batch"] == 3


async def test_a_raising_batch_fails_every_request(client: Client) -> None:
    answers = await _concurrently(client, BOTH, {"x": "1"}, {"x": "2", "fail": "all"}, {"x": "3"})
    assert answers == [(500, {"code": 500, "message": "the whole batch failed"})] * 3


async def test_wrong_length_fails_every_request(client: Client) -> None:
    answers = await _concurrently(client, BOTH, {"x": "1"}, {"x": "2", "fail": "length"})
    message = "Model 'batch-both' predict_batch returned 3 outputs for 2 requests"
    assert answers == [(500, {"code": 500, "message": message})] * 2


async def test_validation_stays_per_request(client: Client) -> None:
    answers = await _concurrently(client, BOTH, {"x": "1"}, {"x": "-5"}, {"x": "3"})
    assert [status for status, _ in answers] == [200, 422, 200]
    assert "x" in answers[1][1]["errors"]


async def test_predict_batch_without_predict(client: Client) -> None:
    answers = await _concurrently(client, ONLY, *({"x": str(i)} for i in range(4)))
    assert [body["predictions"]["double"] for _, body in answers] == [0, 2, 4, 6]
    resp = await client.post(ONLY, params={"x": "5"})
    assert (await resp.json())["predictions"]["batch"] == 1


async def test_operator_settings_win(make_client: ClientFactory) -> None:
    client = await make_client(
        max_batch_size=1, model_options={"batch-only": ModelOptions(max_batch_size=2)}
    )
    both = await _concurrently(client, BOTH, *({"x": str(i)} for i in range(6)))
    assert {body["predictions"]["batch"] for _, body in both} == {1}
    only = await _concurrently(client, ONLY, *({"x": str(i)} for i in range(6)))
    assert [body["predictions"]["double"] for _, body in only] == [0, 2, 4, 6, 8, 10]
    assert max(body["predictions"]["batch"] for _, body in only) == 2
    spec = await (await client.get("/openapi.json")).json()
    assert "description" not in spec["paths"]["/v2/models/batch-both/predict"]["post"]
    assert (
        "max batch size 2" in spec["paths"]["/v2/models/batch-only/predict"]["post"]["description"]
    )


def test_spec_states_batching_and_workers(models: dict[str, ModelWrapper]) -> None:
    served = {name: models[name] for name in ("batch-both", "echo")}
    settings = Settings(
        predict_workers=0, model_options={"batch-both": ModelOptions(predict_workers=2)}
    )
    spec = build_openapi3(ROUTES, served, serving=_serving_info(served, settings))
    described = spec["paths"]["/v2/models/batch-both/predict"]["post"]["description"]
    assert described == (
        "Concurrent requests are batched: max batch size 8, max delay 50 ms. "
        "Predictions run in 2 worker processes."
    )
    assert "description" not in spec["paths"]["/v2/models/echo/predict"]["post"]


async def test_batches_in_the_worker_pool(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    client = await make_client(models={"batch-both": models["batch-both"]}, predict_workers=1)
    answers = await _concurrently(
        client, BOTH, *({"x": str(i)} for i in range(8)), {"x": "9", "fail": "one"}
    )
    outputs = [body for _, body in answers]
    assert [o["predictions"]["double"] for o in outputs[:8]] == [2 * i for i in range(8)]
    assert answers[8] == (500, {"code": 500, "message": "x=9 is not welcome"})
    assert {o["predictions"]["pid"] for o in outputs[:8]} != {os.getpid()}
    assert max(o["predictions"]["batch"] for o in outputs[:8]) > 1
    answers = await _concurrently(client, BOTH, {"x": "1"}, {"x": "2", "fail": "length"})
    assert {status for status, _ in answers} == {500}
