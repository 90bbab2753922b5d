"""Every error an operation answers with is documented, in both API documents.

Each operation is driven with the requests known to produce each of its errors; the
answer's status must be one that operation documents, in ``/openapi.json`` and in
``/swagger.json`` of the same server (with ``Retry-After`` when the answer has it).
Not covered: a status a plugin chooses by raising an aiohttp ``HTTPException`` (any
status, kept as it is; see docs/plugin-guide.md, "Errors").
"""

from __future__ import annotations

import asyncio
import errno
import json
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from deepaas_lite.config import ModelOptions
from deepaas_lite.model import loading, plugin_files
from deepaas_lite.model.wrapper import ModelWrapper
from tests.conftest import ClientFactory
from tests.web.test_routes import FailsToWarm

Client = Any
GUARD = 30.0  # seconds before a test that would hang fails instead
TOKEN = {"Authorization": "Bearer s3cret-token"}
UUID = "0123456789abcdef0123456789abcdef"
RECORD = "/v2/models/echo/train/{uuid}"


async def _answered(
    client: Client, method: str, path: str, status: int, doc: str | None = None, **kwargs: Any
) -> None:
    """``method path`` answers ``status``; the operation at ``doc`` (default ``path``,
    the documented path of a served model) documents it in both documents."""
    resp = await asyncio.wait_for(client.request(method, path + "/", **kwargs), GUARD)
    assert resp.status == status, await resp.text()
    assert (await resp.json())["code"] == status
    openapi = await (await client.get("/openapi.json", headers=TOKEN)).json()
    swagger = await (await client.get("/swagger.json", headers=TOKEN)).json()
    doc = path if doc is None else doc
    for document, key in ((openapi, doc or "/"), (swagger, doc + "/")):
        responses = document["paths"][key][method.lower()]["responses"]
        assert str(status) in responses, f"{method} {key}: {status} is not documented"
        if "Retry-After" in resp.headers:
            assert "Retry-After" in responses[str(status)]["headers"], (key, status)


async def test_predict(make_client: ClientFactory) -> None:
    client = await make_client()
    echo = "/v2/models/echo/predict"
    await _answered(
        client, "POST", echo, 400, data="{", headers={"Content-Type": "application/json"}
    )
    evil = {"Origin": "https://evil.example"}
    await _answered(client, "POST", echo, 403, params={"data": "1"}, headers=evil)
    await _answered(client, "POST", "/v2/models/nope/predict", 404, doc=echo)
    await _answered(client, "POST", echo, 406, params={"data": "1"}, headers={"Accept": "text/csv"})
    # A model that answers JSON only still refuses an Accept without JSON.
    only_json = "/v2/models/raising/predict"
    csv = {"Accept": "text/csv"}
    await _answered(client, "POST", only_json, 406, params={"kind": "value"}, headers=csv)
    await _answered(client, "POST", echo, 415, data="1", headers={"Content-Type": "text/csv"})
    await _answered(client, "POST", echo, 422)
    await _answered(client, "POST", only_json, 500, params={"kind": "value"})
    await _answered(client, "POST", "/v2/models/bare/predict", 501, doc=echo)


async def test_predict_body_too_large(make_client: ClientFactory) -> None:
    client = await make_client(client_max_size=64)
    body = {"data": [1.0] * 100}
    await _answered(client, "POST", "/v2/models/echo/predict", 413, json=body)


async def test_predict_and_ready_when_not_ready(make_client: ClientFactory) -> None:
    client = await make_client(models={"broken": ModelWrapper("broken", FailsToWarm())})
    await _answered(client, "POST", "/v2/models/broken/predict", 503)
    await _answered(client, "GET", "/v2/health/ready", 503)


class Blocking:
    """Each call says it has entered, then waits until the test releases it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict(self) -> str:
        self.entered.set()
        self.release.wait(GUARD)
        return "done"


@pytest.fixture
def slow() -> Any:
    plugin = Blocking()
    yield plugin
    plugin.release.set()


async def test_predict_timeout_and_busy(make_client: ClientFactory, slow: Blocking) -> None:
    options = ModelOptions(predict_concurrency=1, predict_queue_max=0, predict_timeout=0.5)
    client = await make_client(
        models={"slow": ModelWrapper("slow", slow)}, model_options={"slow": options}
    )
    await _answered(client, "POST", "/v2/models/slow/predict", 504)
    assert slow.entered.is_set()
    # The timed-out call still holds the one slot, and none may wait: busy.
    await _answered(client, "POST", "/v2/models/slow/predict", 503)


async def test_tokens(make_client: ClientFactory, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret-token\n")
    client = await make_client(auth_token_file=tokens)
    await _answered(client, "POST", "/v2/models/echo/predict", 401, params={"data": "1"})
    await _answered(client, "POST", "/v2/models/echo/train", 401)
    await _answered(client, "GET", "/v2/models/echo/train", 401)
    await _answered(client, "GET", f"/v2/models/echo/train/{UUID}", 401, doc=RECORD)


async def test_train(make_client: ClientFactory) -> None:
    client = await make_client()
    train = "/v2/models/train-sleeper/train"
    json_type = {"Content-Type": "application/json"}
    await _answered(client, "POST", train, 400, data="[", headers=json_type)
    await _answered(client, "POST", train, 403, headers={"Origin": "https://evil.example"})
    await _answered(client, "POST", "/v2/models/nope/train", 404, doc=train)
    await _answered(client, "POST", train, 415, data="1", headers={"Content-Type": "text/csv"})
    await _answered(client, "POST", train, 422, json={"sleep": "long"})
    await _answered(client, "POST", "/v2/models/object-plugin/train", 501, doc=train)


async def test_train_body_too_large(make_client: ClientFactory) -> None:
    client = await make_client(client_max_size=64)
    body = {"tag": "x" * 100}
    await _answered(client, "POST", "/v2/models/train-sleeper/train", 413, json=body)


async def test_train_queue_full(make_client: ClientFactory) -> None:
    client = await make_client(train_queue_max=1, train_workers=1)
    train = "/v2/models/train-sleeper/train"
    running = await client.post(train + "/", json={"sleep": 30})
    pending = await client.post(train + "/", json={"sleep": 30})
    assert (await pending.json())["status"] == "pending"
    await _answered(client, "POST", train, 429, json={"tag": "third"})
    for resp in (running, pending):
        assert (await client.delete(resp.headers["Location"])).status == 200


async def test_train_not_stored(make_client: ClientFactory, monkeypatch: Any) -> None:
    def full(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("deepaas_lite.training.inputs.shutil.copyfile", full)
    client = await make_client()
    form = aiohttp.FormData()
    form.add_field("data", b"rows", filename="rows.csv", content_type="text/csv")
    await _answered(client, "POST", "/v2/models/train-files/train", 507, data=form)


async def test_trainings_and_models(make_client: ClientFactory) -> None:
    client = await make_client()
    model = "/v2/models/train-sleeper"
    await _answered(client, "GET", "/v2/models/nope", 404, doc=model)
    await _answered(client, "GET", "/v2/models/nope/train", 404, doc=model + "/train")
    record = model + "/train/{uuid}"
    for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/log")):
        path = f"{model}/train/{UUID}{suffix}"
        await _answered(client, method, path, 404, doc=record + suffix)
    evil = {"Origin": "https://evil.example"}
    await _answered(client, "DELETE", f"{model}/train/{UUID}", 403, doc=record, headers=evil)


async def test_hosts_not_served(make_client: ClientFactory) -> None:
    client = await make_client(allowed_hosts=("127.0.0.1",))
    rebound = {"Host": "rebound.example"}
    for path in ("", "/v2", "/v2/models", "/v2/models/echo", "/metrics"):
        await _answered(client, "GET", path, 403, headers=rebound)
    resp = await client.get("/v2/health/live", headers=rebound)
    assert resp.status == 200  # probes reach health from any Host


async def test_model_store(
    make_client: ClientFactory, models: dict[str, ModelWrapper], monkeypatch: Any
) -> None:
    from tests.e2e.test_model_store import PLUGIN

    monkeypatch.setenv(plugin_files.ENV, json.dumps({"versioned": str(PLUGIN)}))
    served = {**loading.load_models(["versioned"]), "bare": models["bare"]}
    client = await make_client(models=served)
    store = "/v2/models/versioned/store"
    current = store + "/current"
    await _answered(client, "GET", "/v2/models/nope/store", 404, doc=store)
    await _answered(client, "GET", "/v2/models/bare/store", 501, doc=store)
    await _answered(client, "PUT", current, 404, params={"version": "nope"})
    await _answered(client, "PUT", current, 422)
    await _answered(client, "PUT", "/v2/models/bare/store/current", 501, doc=current)
    evil = {"Origin": "https://evil.example"}
    await _answered(client, "PUT", current, 403, params={"version": "x"}, headers=evil)
    # The training whose version is current cannot be removed.
    record = await (await client.post("/v2/models/versioned/train/", json={"tag": "t"})).json()
    path = f"/v2/models/versioned/train/{record['uuid']}"
    deadline = asyncio.get_running_loop().time() + GUARD
    while (record := await (await client.get(path)).json())["status"] != "done":
        assert record["status"] in {"pending", "running"}, record
        assert asyncio.get_running_loop().time() < deadline, record
        await asyncio.sleep(0.05)
    await _answered(client, "DELETE", path, 409, doc="/v2/models/versioned/train/{uuid}")
