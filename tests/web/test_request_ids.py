"""Request ids and the log: on the answer, in error bodies, in log lines, on trainings."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from deepaas_lite import logs
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.web.request_id import choose
from tests.conftest import ClientFactory
from tests.web.test_train import wait_ended

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the server's JSON log handler writes while the test runs."""
    out = io.StringIO()
    handler = logs.handler("json", out)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(old_level)


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("incoming", ["abc-123", "trace.id:42_x", "a" * 128])
def test_a_plain_id_is_kept(incoming: str) -> None:
    assert choose(incoming) == incoming


@pytest.mark.parametrize("incoming", [None, "", "a" * 129, "has space", "new\nline", 'quote"', "é"])
def test_anything_else_gets_a_new_id(incoming: str | None) -> None:
    made = choose(incoming)
    assert made != incoming and len(made) == 32 and made.isalnum()


async def test_every_answer_carries_an_id(client: Client) -> None:
    first = await client.get("/v2/models/")
    second = await client.get("/v2/models/")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    kept = await client.get("/v2/models/", headers={"X-Request-ID": "client-7"})
    assert kept.headers["X-Request-ID"] == "client-7"
    bad = await client.get("/v2/models/", headers={"X-Request-ID": "x" * 500})
    assert bad.headers["X-Request-ID"] != "x" * 500
    redirect = await client.get("/api", allow_redirects=False)
    assert redirect.status == 302 and redirect.headers["X-Request-ID"]


async def test_error_bodies_name_the_id(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict", headers={"X-Request-ID": "oops-1"})
    assert resp.status == 422
    assert (await resp.json())["request_id"] == "oops-1"
    resp = await client.get("/no/such/path", headers={"X-Request-ID": "oops-2"})
    assert resp.status == 404 and (await resp.json())["request_id"] == "oops-2"


async def test_access_log_line_per_request(client: Client, log_lines: io.StringIO) -> None:
    await client.post("/v2/models/echo/predict?data=1", headers={"X-Request-ID": "req-1"})
    await client.get("/v2/models/", headers={"X-Request-ID": "req-2"})
    access = [line for line in _lines(log_lines) if line["logger"] == "deepaas_lite.access"]
    assert [(a["method"], a["path"], a["status"], a["request_id"], a["model"]) for a in access] == [
        ("POST", "/v2/models/echo/predict", 200, "req-1", "echo"),
        ("GET", "/v2/models/", 200, "req-2", None),
    ]
    assert all(isinstance(a["duration_ms"], float) for a in access)


async def test_client_errors_are_not_logged_as_errors(
    client: Client, log_lines: io.StringIO
) -> None:
    await client.post("/v2/models/echo/predict")  # 422
    await client.post("/v2/models/nope/predict")  # 404
    await client.post("/v2/models/bare/predict")  # 501: the model has no predict
    await client.post("/v2/models/raising/predict/?kind=http")  # the plugin's 402
    lines = _lines(log_lines)
    assert [line["status"] for line in lines if "status" in line] == [422, 404, 501, 402]
    assert not [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}]
    assert not [line for line in lines if "exception" in line]


async def test_a_plugin_failure_is_logged_with_its_request_id(
    client: Client, log_lines: io.StringIO
) -> None:
    await client.post("/v2/models/raising/predict/?kind=value", headers={"X-Request-ID": "boom"})
    errors = [line for line in _lines(log_lines) if line["level"] == "ERROR"]
    assert errors and all(line["request_id"] == "boom" for line in errors)


async def test_a_training_keeps_the_id_that_started_it(
    client: Client, log_lines: io.StringIO
) -> None:
    resp = await client.post("/v2/models/train-sleeper/train/", headers={"X-Request-ID": "train-1"})
    assert resp.status == 200
    record = await resp.json()
    assert record["request_id"] == "train-1"
    ended = await wait_ended(client, resp.headers["Location"])
    assert ended["status"] == "done" and ended["request_id"] == "train-1"
    listed = await (await client.get("/v2/models/train-sleeper/train/")).json()
    assert listed[0]["request_id"] == "train-1"
    # Its lifecycle is logged, each line naming the request that submitted it.
    events = [
        line["message"]
        for line in _lines(log_lines)
        if line["logger"] == "deepaas_lite.training.manager" and line.get("request_id") == "train-1"
    ]
    uuid = record["uuid"]
    assert f"Training '{uuid}' of 'train-sleeper' submitted" in events
    assert f"Training '{uuid}' of 'train-sleeper' started" in events
    assert f"Training '{uuid}': done" in events


async def test_a_failed_training_is_logged_with_its_reason(
    client: Client, log_lines: io.StringIO
) -> None:
    resp = await client.post("/v2/models/train-raiser/train/")
    await wait_ended(client, resp.headers["Location"])
    warnings = [line for line in _lines(log_lines) if line["level"] == "WARNING"]
    assert any("ended in error" in str(line["message"]) for line in warnings)


async def test_a_cancel_is_logged(client: Client, log_lines: io.StringIO) -> None:
    resp = await client.post("/v2/models/train-sleeper/train/?sleep=60")
    uuid = (await resp.json())["uuid"]
    cancelled = await client.delete(resp.headers["Location"], headers={"X-Request-ID": "stop-1"})
    assert (await cancelled.json())["status"] == "cancelled"
    lines = [line for line in _lines(log_lines) if line.get("request_id") == "stop-1"]
    assert f"Training '{uuid}' of 'train-sleeper' cancelled" in [line["message"] for line in lines]


async def test_a_plugins_own_log_lines_name_the_request(
    make_client: ClientFactory, log_lines: io.StringIO
) -> None:
    class Chatty:
        def predict(self) -> str:
            logging.getLogger("a_plugin").info("predicting now")
            return "ok"

    client = await make_client(models={"chatty": ModelWrapper("chatty", Chatty())})
    resp = await client.post("/v2/models/chatty/predict", headers={"X-Request-ID": "plugin-1"})
    assert resp.status == 200
    said = [line for line in _lines(log_lines) if line["logger"] == "a_plugin"]
    assert [line.get("request_id") for line in said] == ["plugin-1"]
