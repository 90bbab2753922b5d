"""Versions, models, health, metrics, UI and base path over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ClientFactory
from tests.web.test_train import wait_ended

Client = Any


class FailsToWarm:
    """A plugin whose ``warm()`` raises: its model is never ready."""

    def warm(self) -> None:
        raise RuntimeError("no weights")

    def predict(self) -> None:
        return None


async def test_versions(client: Client) -> None:
    body = await (await client.get("/")).json()
    (v2,) = body["versions"]
    assert v2["id"] == "v2" and v2["version"] == "stable"
    assert {link["rel"] for link in body["links"]} == {"help", "describedby"}
    version = await (await client.get("/v2/")).json()
    assert version["id"] == "v2"
    assert (await client.get("/v2")).status == 200


async def test_models_list_and_one(client: Client) -> None:
    body = await (await client.get("/v2/models/")).json()
    ids = [m["id"] for m in body["models"]]
    assert "echo" in ids and "bare" in ids and "broken-import" not in ids
    echo = next(m for m in body["models"] if m["id"] == "echo")
    assert echo["description"] == "Echoes its arguments"
    assert {
        "rel": "self",
        "type": "application/json",
        "href": "/v2/models/echo/",
    } in echo["links"]
    one = await (await client.get("/v2/models/echo")).json()
    # The description as listed, with the V2 model metadata, whose name is the id.
    v2 = {key: one.pop(key) for key in ("versions", "platform", "inputs", "outputs")}
    assert one == {**echo, "name": "echo"}
    assert v2["platform"] and {"name": "count", "datatype": "INT64", "shape": [1]} in v2["inputs"]
    bare = await (await client.get("/v2/models/bare/")).json()
    assert bare["version"] == "1.2.3" and bare["id"] == "bare"


@pytest.mark.parametrize(
    "path",
    ["/nope", "/v2/models/nope", "/v2/models/nope/", "/v2/models/nope/train/"],
)
async def test_not_found_is_json(client: Client, path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 404
    body = await resp.json()
    assert body["code"] == 404 and body["message"]


async def test_method_not_allowed_is_json(client: Client) -> None:
    resp = await client.delete("/v2/models/")
    assert resp.status == 405
    assert (await resp.json())["code"] == 405
    assert "GET" in resp.headers["Allow"]


async def test_health(client: Client) -> None:
    assert (await client.get("/v2/health/live")).status == 200
    ready = await client.get("/v2/health/ready")
    assert ready.status == 200


async def test_not_ready_while_a_model_warms(make_client: ClientFactory) -> None:
    import threading

    from deepaas_lite.model.wrapper import ModelWrapper

    gate = threading.Event()

    class Slow:
        def warm(self) -> None:
            gate.wait(10)

        def predict(self) -> dict[str, str]:
            return {"ok": "yes"}

    client = await make_client(models={"slow": ModelWrapper("slow", Slow())})
    resp = await client.get("/v2/health/ready")
    assert resp.status == 503
    assert (await resp.json())["models"] == ["slow"]
    gate.set()
    predicted = await client.post("/v2/models/slow/predict/")
    assert (await predicted.json())["predictions"] == {"ok": "yes"}
    assert (await client.get("/v2/health/ready")).status == 200


async def test_failed_warm_is_503(make_client: ClientFactory) -> None:
    from deepaas_lite.model.wrapper import ModelWrapper

    client = await make_client(models={"broken": ModelWrapper("broken", FailsToWarm())})
    resp = await client.post("/v2/models/broken/predict/")
    assert resp.status == 503
    assert "no weights" in (await resp.json())["message"]
    assert (await client.get("/v2/health/ready")).status == 503


async def test_nowarm_skips_warm(make_client: ClientFactory) -> None:
    from deepaas_lite.model.wrapper import ModelWrapper

    calls: list[int] = []

    class Counting:
        def warm(self) -> None:
            calls.append(1)

        def predict(self) -> int:
            return len(calls)

    client = await make_client(models={"c": ModelWrapper("c", Counting())}, warm=False)
    assert (await (await client.post("/v2/models/c/predict/")).json())["predictions"] == 0


async def test_metrics(client: Client) -> None:
    await client.post("/v2/models/echo/predict/?data=1")
    await client.post("/v2/models/nope/predict/")
    for model_id in ("train-sleeper", "train-sleeper", "train-raiser"):
        resp = await client.post(f"/v2/models/{model_id}/train/")
        assert (await wait_ended(client, resp.headers["Location"]))["status"] in {"done", "error"}
    text = await (await client.get("/metrics")).text()
    expected = (
        'deepaas_requests_total{method="POST",model="echo",'
        'route="/v2/models/{model_id}/predict/",status="200"} 1.0'
    )
    assert expected in text
    # An unknown model id is not a label value of its own.
    assert 'model="nope"' not in text
    assert 'status="404"' in text
    assert "deepaas_request_duration_seconds_bucket" in text
    trainings = sorted(line for line in text.splitlines() if line.startswith("deepaas_trainings{"))
    assert [line for line in trainings if not line.endswith(" 0.0")] == [
        'deepaas_trainings{model="train-raiser",status="error"} 1.0',
        'deepaas_trainings{model="train-sleeper",status="done"} 2.0',
    ]
    # A status no training is in is 0, not absent (a series that vanishes reads as
    # "no data", and alerts on it never resolve); a model that cannot train has none.
    statuses = ["cancelled", "done", "error", "interrupted", "pending", "running"]
    assert [line for line in trainings if 'model="train-sleeper"' in line] == [
        f'deepaas_trainings{{model="train-sleeper",status="{status}"}} '
        + ("2.0" if status == "done" else "0.0")
        for status in statuses
    ]
    assert 'deepaas_trainings{model="bare-predict"' not in text
    # The standard process metrics (prometheus-client's process collector).
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes"):
        assert f"\n{name} " in text, name


async def test_ui_and_assets(client: Client) -> None:
    page = await client.get("/ui")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert "/ui/static/swagger-ui-bundle.js" in html and 'url: "/openapi.json"' in html
    assert "cdn" not in html.lower() and "https://" not in html
    asset = await client.get("/ui/static/swagger-ui-bundle.js")
    assert asset.status == 200 and len(await asset.read()) > 100_000
    redirect = await client.get("/api", allow_redirects=False)
    assert redirect.status == 302 and redirect.headers["Location"] == "/ui"


async def test_base_path_moves_everything(make_client: ClientFactory) -> None:
    client = await make_client(base_path="/deepaas")
    assert (await client.get("/v2/models/")).status == 404
    body = await (await client.get("/deepaas/v2/models/")).json()
    echo = next(m for m in body["models"] if m["id"] == "echo")
    assert echo["links"][0]["href"] == "/deepaas/v2/models/echo/"
    assert (await client.post("/deepaas/v2/models/echo/predict?data=1")).status == 200
    assert (await client.get("/deepaas")).status == 200
    assert (await client.get("/deepaas/")).status == 200
    html = await (await client.get("/deepaas/ui")).text()
    assert "/deepaas/ui/static/swagger-ui.css" in html and "/deepaas/openapi.json" in html
    assert (await client.get("/deepaas/ui/static/swagger-ui.css")).status == 200
    spec = await (await client.get("/deepaas/openapi.json")).json()
    assert "/deepaas/v2/models/echo/predict" in spec["paths"]
    redirect = await client.get("/deepaas/api", allow_redirects=False)
    assert redirect.headers["Location"] == "/deepaas/ui"


async def test_latency_histogram(client: Client) -> None:
    for _ in range(3):
        await client.get("/v2/models/")
    text = await (await client.get("/metrics")).text()
    labels = 'method="GET",model="",route="/v2/models/"'
    assert f'deepaas_request_duration_seconds_bucket{{le="+Inf",{labels}}} 3.0' in text
    assert f"deepaas_request_duration_seconds_count{{{labels}}} 3.0" in text
    counts = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("deepaas_request_duration_seconds_bucket{")
        and 'route="/v2/models/"' in line
    ]
    assert counts == sorted(counts) and len(counts) == 16  # cumulative, 15 bounds + Inf


@pytest.mark.parametrize(
    ("method", "path"),
    [  # DEEPaaS's own test_not_found and test_model_not_found
        ("GET", "/v2/models/0123456789abcdef"),
        ("PUT", "/v2/models/0123456789abcdef"),
        ("POST", "/v2/models/0123456789abcdef"),
        ("DELETE", "/v2/models/0123456789abcdef"),
        ("PUT", "/v2/models/0123456789abcdef/train"),
        ("POST", "/v2/models/0123456789abcdef/predict"),
        # and any other path under an unknown model
        ("GET", "/v2/models/nope/predict/"),
        ("PATCH", "/v2/models/nope/train/0123/"),
        ("GET", "/v2/models/nope/anything/else"),
    ],
)
async def test_paths_under_an_unknown_model_are_404(client: Client, method: str, path: str) -> None:
    resp = await client.request(method, path)
    assert resp.status == 404, await resp.text()
    body = await resp.json()
    assert body["code"] == 404 and body["message"] == "Model '" + path.split("/")[3] + "' not found"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v2/models/echo", "GET"),
        ("GET", "/v2/models/echo/predict/", "POST"),
        ("PUT", "/v2/models/echo/train", "GET,POST"),
    ],
)
async def test_a_known_model_keeps_405(client: Client, method: str, path: str, allow: str) -> None:
    resp = await client.request(method, path)
    assert resp.status == 405
    assert (await resp.json())["code"] == 405
    assert set(allow.split(",")) <= set(resp.headers["Allow"].split(","))


async def test_an_unknown_path_under_a_known_model_is_404(client: Client) -> None:
    resp = await client.get("/v2/models/echo/anything/else")
    assert resp.status == 404
    assert (await resp.json())["code"] == 404
