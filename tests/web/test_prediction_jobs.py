"""Prediction jobs through real HTTP, in-process: Prefer: respond-async, the job routes,
outputs kept as produced, cancel, limits, webhooks. (Restarts, worker processes, nginx
and a real deepaas-run: tests/e2e/test_prediction_jobs_server.py.)"""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from standardwebhooks.webhooks import Webhook

from tests.web.test_webhooks import Receiver

Client = Any
ASYNC = {"Prefer": "respond-async"}


async def wait_ended(client: Client, location: str, timeout: float = 30) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        resp = await client.get(location)
        record: dict[str, Any] = await resp.json()
        if record["status"] not in {"pending", "running"}:
            assert "Retry-After" not in resp.headers
            return record
        assert resp.headers["Retry-After"] == "1"
        assert loop.time() < deadline, record
        await asyncio.sleep(0.05)


async def wait_for(path: Path, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not path.exists():
        assert loop.time() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.02)


async def test_submit_answers_202_before_the_prediction_ends(
    client: Client, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    resp = await client.post(
        "/v2/models/slow/predict/",
        json={"tag": "a", "marks": str(marks), "seconds": 60},
        headers=ASYNC,
    )
    assert resp.status == 202
    assert resp.headers["Preference-Applied"] == "respond-async"
    record = await resp.json()
    location = resp.headers["Location"]
    assert location == f"/v2/models/slow/predictions/{record['uuid']}"
    assert record["status"] in {"pending", "running"}
    assert record["args"]["tag"] == "a" and record["request_id"] == resp.headers["X-Request-ID"]
    await wait_for(marks / "started-a")
    running = await (await client.get(location)).json()
    assert running["status"] == "running"  # the call is still held inside the plugin
    (marks / "release-a").touch()
    done = await wait_ended(client, location)
    assert done["status"] == "done", done
    assert done["result"]["content_type"] == "application/json"
    assert done["result"]["output"] == {
        "tag": "a",
        "pid": done["result"]["output"]["pid"],
        "size": None,
    }
    assert set(done["result"]) >= {"finish_date", "duration", "size"}
    output = await client.get(location + "/output")
    assert output.status == 200 and output.content_type == "application/json"
    assert await output.json() == done["result"]["output"]
    listed = await (await client.get("/v2/models/slow/predictions/")).json()
    assert [job["uuid"] for job in listed] == [record["uuid"]]


async def test_raw_output_keeps_its_content_type_and_a_file_argument_is_read(
    client: Client,
) -> None:
    form = aiohttp.FormData()
    form.add_field("tag", "t")
    form.add_field("data", io.BytesIO(b"12345"), filename="x.bin")
    resp = await client.post("/v2/models/slow/predict/?accept=text/plain", data=form, headers=ASYNC)
    assert resp.status == 202, await resp.text()
    location = resp.headers["Location"]
    done = await wait_ended(client, location)
    assert done["status"] == "done", done
    assert done["result"]["content_type"] == "text/plain; charset=utf-8"
    assert "output" not in done["result"]
    assert done["args"]["data"] == {
        "original_filename": "x.bin",
        "content_type": "application/octet-stream",
    }
    output = await client.get(location + "/output")
    assert output.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert await output.text() == "call t größe\n"

    form = aiohttp.FormData()
    form.add_field("tag", "sized")
    form.add_field("data", io.BytesIO(b"12345"), filename="x.bin")
    resp = await client.post("/v2/models/slow/predict/", data=form, headers=ASYNC)
    done = await wait_ended(client, resp.headers["Location"])
    assert done["result"]["output"]["size"] == 5  # the job read its copy of the upload


async def test_a_failing_prediction_ends_in_error_with_no_output(client: Client) -> None:
    resp = await client.post(
        "/v2/models/slow/predict/", json={"tag": "f", "fail": True}, headers=ASYNC
    )
    location = resp.headers["Location"]
    done = await wait_ended(client, location)
    assert done["status"] == "error"
    assert "call f failed as asked" in done["message"]
    missing = await client.get(location + "/output")
    assert missing.status == 404
    assert "no output" in (await missing.json())["message"]


async def test_invalid_arguments_are_422_and_nothing_is_stored(client: Client) -> None:
    resp = await client.post("/v2/models/slow/predict/", json={"seconds": 1}, headers=ASYNC)
    assert resp.status == 422
    assert "tag" in (await resp.json())["errors"]
    assert await (await client.get("/v2/models/slow/predictions")).json() == []


async def test_without_prefer_predict_stays_synchronous(client: Client) -> None:
    resp = await client.post(
        "/v2/models/slow/predict/", json={"tag": "s"}, headers={"Prefer": "return=minimal"}
    )
    assert resp.status == 200
    assert (await resp.json())["predictions"]["tag"] == "s"


async def test_cancel_a_running_job_then_remove_it(client: Client, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    resp = await client.post(
        "/v2/models/slow/predict/",
        json={"tag": "c", "marks": str(marks), "seconds": 60},
        headers=ASYNC,
    )
    location = resp.headers["Location"]
    await wait_for(marks / "started-c")
    cancelled = await client.delete(location)
    assert cancelled.status == 200
    assert (await cancelled.json())["status"] == "cancelled"
    assert (await (await client.get(location)).json())["status"] == "cancelled"
    (marks / "release-c").touch()  # the thread's call ends; its result is discarded
    removed = await client.delete(location)
    assert removed.status == 200
    assert (await client.get(location)).status == 404
    assert (await client.delete(location)).status == 404


async def test_unknown_job_and_model_are_404(client: Client) -> None:
    assert (await client.get("/v2/models/slow/predictions/nope")).status == 404
    assert (await client.get("/v2/models/slow/predictions/nope/output")).status == 404
    assert (await client.get("/v2/models/nope/predictions/")).status == 404


async def test_the_job_queue_bound_is_429_with_retry_after(
    make_client: Any, tmp_path: Path
) -> None:
    client = await make_client(predict_jobs_workers=1, predict_jobs_max=1)
    marks = tmp_path / "marks"
    marks.mkdir()
    body = {"marks": str(marks), "seconds": 60}
    first = await client.post("/v2/models/slow/predict/", json={**body, "tag": "1"}, headers=ASYNC)
    await wait_for(marks / "started-1")  # running: the one slot is taken
    second = await client.post("/v2/models/slow/predict/", json={**body, "tag": "2"}, headers=ASYNC)
    assert second.status == 202  # pending: the one place in the queue
    third = await client.post("/v2/models/slow/predict/", json={**body, "tag": "3"}, headers=ASYNC)
    assert third.status == 429
    assert int(third.headers["Retry-After"]) > 0
    for tag in ("1", "2"):
        (marks / f"release-{tag}").touch()
    for resp in (first, second):
        assert (await wait_ended(client, resp.headers["Location"]))["status"] == "done"


async def test_history_keeps_the_newest_jobs_and_removes_older_outputs(
    make_client: Any, tmp_path: Path
) -> None:
    client = await make_client(prediction_history=2)
    locations = []
    for tag in "abc":
        resp = await client.post("/v2/models/slow/predict/", json={"tag": tag}, headers=ASYNC)
        locations.append(resp.headers["Location"])
        await wait_ended(client, locations[-1])
    listed = await (await client.get("/v2/models/slow/predictions/")).json()
    assert [job["args"]["tag"] for job in listed] == ["b", "c"]
    assert (await client.get(locations[0] + "/output")).status == 404
    outputs = tmp_path / "state" / "predictions" / "outputs"
    assert sorted(path.name for path in outputs.iterdir()) == sorted(
        location.rsplit("/", 1)[1] for location in locations[1:]
    )


async def test_an_output_over_the_limit_ends_in_error(make_client: Any) -> None:
    client = await make_client(prediction_output_max_bytes=10)
    resp = await client.post("/v2/models/slow/predict/", json={"tag": "big"}, headers=ASYNC)
    done = await wait_ended(client, resp.headers["Location"])
    assert done["status"] == "error"
    assert "--prediction-output-max-bytes 10" in done["message"]


async def test_a_model_without_predict_is_501(client: Client) -> None:
    resp = await client.post("/v2/models/metadata-only/predict/", json={}, headers=ASYNC)
    assert resp.status == 501


async def webhooks(tmp_path: Path) -> tuple[Receiver, str, Path]:
    """A started receiver (close it), a webhook secret and the file that holds it."""
    receiver = Receiver()
    await receiver.server.start_server()
    secret = "whsec_" + base64.b64encode(b"thirty-two bytes of a secret key").decode()
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret)
    return receiver, secret, secret_file


async def test_webhooks_refused_hosts_and_a_signed_delivery(
    make_client: Any, tmp_path: Path
) -> None:
    receiver, secret, secret_file = await webhooks(tmp_path)
    try:
        off = await make_client()
        refused = await off.post(
            "/v2/models/slow/predict/",
            json={"tag": "w"},
            headers={**ASYNC, "Callback-URL": receiver.url},
        )
        assert refused.status == 422  # webhooks are off without an allowed host
        client = await make_client(
            webhook_allowed_hosts=("127.0.0.1",), webhook_secret_file=secret_file
        )
        inner = await client.post(
            "/v2/models/slow/predict/",
            json={"tag": "w"},
            headers={**ASYNC, "Callback-URL": "http://169.254.169.254/latest/"},
        )
        assert inner.status == 422
        assert "callback" in (await inner.json())["errors"]
        resp = await client.post(
            "/v2/models/slow/predict/",
            json={"tag": "w"},
            headers={**ASYNC, "Callback-URL": receiver.url},
        )
        assert resp.status == 202
        done = await wait_ended(client, resp.headers["Location"])
        await asyncio.wait_for(receiver.arrived.wait(), 30)
    finally:
        await receiver.server.close()
    [(body, headers)] = receiver.received
    assert Webhook(secret).verify(body, headers) == done


async def test_jobs_are_counted_in_the_metrics(client: Client) -> None:
    resp = await client.post("/v2/models/slow/predict/", json={"tag": "m"}, headers=ASYNC)
    await wait_ended(client, resp.headers["Location"])
    text = await (await client.get("/metrics")).text()
    assert 'deepaas_prediction_jobs{model="slow",status="done"} 1.0' in text
    assert 'deepaas_prediction_jobs{model="slow",status="error"} 0.0' in text


@pytest.mark.parametrize("path", ["/openapi.json", "/swagger.json"])
async def test_both_documents_show_the_202_and_the_job_routes(client: Client, path: str) -> None:
    document = await (await client.get(path)).json()
    slash = "/" if path == "/swagger.json" else ""  # DEEPaaS's paths end in a slash
    predict = document["paths"][f"/v2/models/slow/predict{slash}"]["post"]
    assert "202" in predict["responses"]
    headers = {p["name"] for p in predict.get("parameters", []) if p["in"] == "header"}
    if path == "/openapi.json":
        assert "Prefer" in headers
        assert "Callback-URL" not in headers  # webhooks are off: it would be a 422
    else:
        assert "Prefer" not in headers  # DEEPaaS clients make an input of every parameter
    assert f"/v2/models/slow/predictions/{{uuid}}/output{slash}" in document["paths"]
    assert "delete" in document["paths"][f"/v2/models/slow/predictions/{{uuid}}{slash}"]


async def test_callback_url_is_documented_when_webhooks_are_on(
    make_client: Any, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("a secret")
    client = await make_client(webhook_allowed_hosts=("127.0.0.1",), webhook_secret_file=secret)
    document = await (await client.get("/openapi.json")).json()
    predict = document["paths"]["/v2/models/slow/predict"]["post"]
    assert {"Prefer", "Callback-URL"} <= {p["name"] for p in predict["parameters"]}


async def test_with_tokens_every_job_route_needs_one(make_client: Any, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret-token\n")
    client = await make_client(auth_token_file=tokens)
    good = {"Authorization": "Bearer s3cret-token"}
    refused = await client.post("/v2/models/slow/predict/", json={"tag": "x"}, headers=ASYNC)
    assert refused.status == 401
    resp = await client.post(
        "/v2/models/slow/predict/", json={"tag": "x"}, headers={**ASYNC, **good}
    )
    assert resp.status == 202
    location = resp.headers["Location"]
    for method, path in [
        ("GET", "/v2/models/slow/predictions/"),
        ("GET", location),
        ("GET", location + "/output"),
        ("DELETE", location),
    ]:
        assert (await client.request(method, path)).status == 401, (method, path)
    assert (await client.get(location, headers=good)).status == 200
