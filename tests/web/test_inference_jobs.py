"""Inference as a prediction job, in-process through real HTTP: ``POST .../infer`` with
``Prefer: respond-async`` answers 202 as predict does, the job's output is the V2 answer
the synchronous infer gives, bad tensors are refused before anything is stored, and
cancel, webhooks and metrics work as for predict's jobs. (A restart and iris on a real
``deepaas-run``: tests/e2e/test_prediction_jobs_server.py and test_inference_clients.py.)
"""

from __future__ import annotations

import asyncio
import json
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator
from standardwebhooks.webhooks import Webhook

from deepaas_lite.web.keys import SETTINGS
from tests.web.test_inference import binary_body, length_prefixed, tensor
from tests.web.test_prediction_jobs import wait_ended, wait_for, webhooks

Client = Any
ASYNC = {"Prefer": "respond-async"}

KINDS = [
    tensor("numbers", "FP64", [3], [1.5, -2.0, 3.25]),
    tensor("words", "BYTES", [2], ["a", "größe"]),
    tensor("colour", "BYTES", [1], ["blue"]),
    tensor("flag", "BOOL", [1], [True]),
    tensor("level", "INT64", [1], [4]),
    tensor("ratio", "FP64", [1], [0.25]),
    tensor("point", "BYTES", [1], ['{"x": 1.5, "y": -2}']),
    tensor("tags", "BYTES", [1], [{"a": 1, "b": 2}]),
    tensor("größe", "FP64", [1], [1.75]),
    tensor("upload", "BYTES", [1], ["the file's text"]),
]


async def synchronous(client: Client, path: str, body: Any) -> Any:
    resp = await client.post(path, json=body)
    assert resp.status == 200 and resp.content_type == "application/json", await resp.text()
    return await resp.json()


async def submit(
    client: Client, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    resp = await client.post(path, json=body, headers={**ASYNC, **(headers or {})})
    assert resp.status == 202, await resp.text()
    assert resp.headers["Preference-Applied"] == "respond-async"
    assert resp.headers["Retry-After"] == "1"
    record: dict[str, Any] = await resp.json()
    return record, resp.headers["Location"]


async def output_of(client: Client, location: str) -> Any:
    """The ended job's output (GET .../output), which its record holds too."""
    done = await wait_ended(client, location)
    assert done["status"] == "done", done
    assert done["result"]["content_type"] == "application/json"
    resp = await client.get(location + "/output")
    assert resp.status == 200 and resp.content_type == "application/json"
    output = await resp.json()
    assert output == done["result"]["output"]
    return output


async def test_an_infer_job_answers_202_and_its_output_is_the_synchronous_answer(
    client: Client,
) -> None:
    body = {"id": "k-1", "inputs": KINDS}
    answer = await synchronous(client, "/v2/models/kinds/infer", body)
    record, location = await submit(
        client, "/v2/models/kinds/infer", body, {"X-Request-ID": "submitter-1"}
    )
    assert location == f"/v2/models/kinds/predictions/{record['uuid']}"
    assert record["status"] in {"pending", "running"} and record["call"] == "inference"
    assert record["request_id"] == "submitter-1"
    assert record["args"]["id"] == "k-1" and record["args"]["batched"] is False
    (call,) = record["args"]["calls"]
    assert call["numbers"] == [1.5, -2.0, 3.25] and call["point"] == {"x": 1.5, "y": -2}
    assert call["upload"] == {
        "original_filename": "upload",
        "content_type": "application/octet-stream",
    }
    assert await output_of(client, location) == answer
    listed = await (await client.get("/v2/models/kinds/predictions/")).json()
    assert [job["uuid"] for job in listed] == [record["uuid"]]


async def test_the_versioned_route_and_an_id_from_the_request(client: Client) -> None:
    """Without an ``id`` the answer's is the submitting request's X-Request-ID, as the
    synchronous one's; the versioned route's job is in the model's one collection."""
    body = {"inputs": [tensor("numbers", "FP64", [1], [2.5])]}
    path = "/v2/models/kinds/versions/0.0.1/infer"
    resp = await client.post(path, json=body, headers={"X-Request-ID": "same-id"})
    answer = await resp.json()
    assert answer["id"] == "same-id" and answer["model_version"] == "0.0.1"
    record, location = await submit(client, path, body, {"X-Request-ID": "same-id"})
    assert location == f"/v2/models/kinds/predictions/{record['uuid']}"
    assert await output_of(client, location) == answer
    refused = await client.post("/v2/models/kinds/versions/9.9/infer", json=body, headers=ASYNC)
    assert refused.status == 404 and "error" in await refused.json()


async def test_a_batch_job_answers_as_the_synchronous_batch(client: Client) -> None:
    """The rows go to predict_batch together, as in the synchronous infer."""
    body = {"id": "b", "inputs": [tensor("x", "INT64", [3, 1], [1, 2, 3])]}
    answer = await synchronous(client, "/v2/models/batch-only/infer", body)
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["batch"]["data"] == [3, 3, 3]  # one predict_batch call of 3
    record, location = await submit(client, "/v2/models/batch-only/infer", body)
    assert record["args"]["batched"] is True and len(record["args"]["calls"]) == 3
    assert await output_of(client, location) == answer


async def test_outputs_asked_for_and_a_schema(client: Client) -> None:
    body = {
        "id": "asked",
        "inputs": [tensor("valid", "BOOL", [1], [True])],
        "outputs": [{"name": "probability", "parameters": {"binary_data": True}}],
    }
    answer = await synchronous(
        client, "/v2/models/schema-output/infer", {**body, "outputs": [{"name": "probability"}]}
    )
    assert [o["name"] for o in answer["outputs"]] == ["probability"]
    record, location = await submit(client, "/v2/models/schema-output/infer", body)
    assert record["args"]["outputs"] == ["probability"]
    assert await output_of(client, location) == answer


def _kinds_binary(parameters: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """kinds' numbers and a file (bytes that are not text) as binary data."""
    numbers = struct.pack("<2d", 1.5, -2.0)
    upload = length_prefixed(b"\x89PNG\r\n\x1a\n\x00\xff")
    file_parameters = {"content_type": "image/png", "filename": "a.png"}
    inputs = [
        {
            "name": name,
            "datatype": datatype,
            "shape": [count],
            "parameters": {**more, "binary_data_size": len(data)},
        }
        for name, datatype, count, data, more in (
            ("numbers", "FP64", 2, numbers, {}),
            ("upload", "BYTES", 1, upload, file_parameters),
        )
    ]
    return binary_body({"id": "bin", "inputs": inputs, "parameters": parameters}, numbers, upload)


async def test_a_binary_request_asking_for_binary_outputs_gets_json_tensors(
    client: Client,
) -> None:
    """The binary data extension's inputs are read at once (the file kept for the
    job); outputs asked for as binary data come as JSON tensors: the job's output is
    one JSON document, the same as the synchronous answer sent as JSON."""
    as_json, headers = _kinds_binary({})
    resp = await client.post("/v2/models/kinds/infer", data=as_json, headers=headers)
    answer = await resp.json()
    binary, headers = _kinds_binary({"binary_data_output": True})
    resp = await client.post("/v2/models/kinds/infer", data=binary, headers={**headers, **ASYNC})
    assert resp.status == 202, await resp.text()
    record = await resp.json()
    assert record["args"]["calls"][0]["upload"] == {
        "original_filename": "a.png",
        "content_type": "image/png",
    }
    output = await output_of(client, resp.headers["Location"])
    assert output == answer
    (predictions,) = output["outputs"]
    assert "parameters" not in predictions
    assert json.loads(predictions["data"][0])["upload"]["size"] == 10  # the job read its copy


async def test_bad_tensors_are_400_at_once_and_nothing_is_stored(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))  # where SavedFiles puts files
    upload = {"name": "upload", "datatype": "BYTES", "shape": [1], "data": ["text"]}
    cases = [
        ({"inputs": [tensor("numbers", "FP32", [1], [1.0])]}, "expected FP64"),
        ({"inputs": [tensor("numbers", "FP64", [2], [1.0])]}, "shape"),
        ({"inputs": [upload, tensor("level", "INT64", [1], [1])]}, "numbers: Missing data"),
        ({"inputs": [upload, tensor("level", "INT64", [1], ["x"])]}, "not an integer"),
        ({"inputs": KINDS[:1], "outputs": [{"name": {}}]}, "No output {}"),
    ]
    for body, words in cases:
        resp = await client.post("/v2/models/kinds/infer", json=body, headers=ASYNC)
        answer = await resp.json()
        assert resp.status == 400 and words in answer["error"], (body, answer)
    resp = await client.post(
        "/v2/models/schema-output/infer",
        json={"inputs": [], "outputs": [{"name": "nope"}]},
        headers=ASYNC,
    )
    assert resp.status == 400
    assert "No output 'nope' (the outputs: label, probability)" in (await resp.json())["error"]
    resp = await client.post("/v2/models/kinds/infer", data=b"{", headers=ASYNC)
    assert resp.status == 400 and "error" in await resp.json()
    for model in ("kinds", "schema-output"):
        assert await (await client.get(f"/v2/models/{model}/predictions/")).json() == []
    inputs = Path(client.server.app[SETTINGS].state_dir) / "predictions" / "inputs"
    assert list(inputs.iterdir()) == [] and list(uploads.iterdir()) == []


def _slow(tag: str, marks: Path, **more: Any) -> dict[str, Any]:
    inputs = [
        tensor("tag", "BYTES", [1], [tag]),
        tensor("marks", "BYTES", [1], [str(marks)]),
        tensor("seconds", "FP64", [1], [60.0]),
    ]
    inputs += [tensor(name, "BOOL", [1], [value]) for name, value in more.items()]
    return {"inputs": inputs}


async def test_cancel_a_running_infer_job_then_remove_it(client: Client, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    _, location = await submit(client, "/v2/models/slow/infer", _slow("c", marks))
    await wait_for(marks / "started-c")
    assert (await (await client.get(location)).json())["status"] == "running"
    cancelled = await client.delete(location)
    assert cancelled.status == 200 and (await cancelled.json())["status"] == "cancelled"
    (marks / "release-c").touch()  # the thread's call ends; its result is discarded
    assert (await wait_ended(client, location))["status"] == "cancelled"
    assert (await client.get(location + "/output")).status == 404
    assert (await client.delete(location)).status == 200
    assert (await client.get(location)).status == 404


async def test_a_failing_call_ends_the_job_in_error(client: Client, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    (marks / "release-f").touch()
    _, location = await submit(client, "/v2/models/slow/infer", _slow("f", marks, fail=True))
    done = await wait_ended(client, location)
    assert done["status"] == "error" and "call f failed as asked" in done["message"]


async def test_refused_as_predict_refuses(make_client: Any, tmp_path: Path) -> None:
    """No predict: 501; another preference: synchronous; a callback with webhooks off:
    422; the queue full: 429 with Retry-After (each with the protocol's "error")."""
    client = await make_client(predict_jobs_workers=1, predict_jobs_max=1)
    resp = await client.post("/v2/models/metadata-only/infer", json={"inputs": []}, headers=ASYNC)
    assert resp.status == 501 and "error" in await resp.json()
    body = {"inputs": [tensor("numbers", "FP64", [1], [1.0])]}
    resp = await client.post(
        "/v2/models/kinds/infer", json=body, headers={"Prefer": "return=minimal"}
    )
    assert resp.status == 200 and "outputs" in await resp.json()
    resp = await client.post(
        "/v2/models/kinds/infer",
        json=body,
        headers={**ASYNC, "Callback-URL": "http://127.0.0.1:1/hook"},
    )
    answer = await resp.json()
    assert resp.status == 422 and "callback" in answer["errors"] and answer["error"]
    marks = tmp_path / "marks"
    marks.mkdir()
    _, first = await submit(client, "/v2/models/slow/infer", _slow("1", marks))
    await wait_for(marks / "started-1")
    _, second = await submit(client, "/v2/models/slow/infer", _slow("2", marks))
    full = await client.post("/v2/models/slow/infer", json=_slow("3", marks), headers=ASYNC)
    assert full.status == 429 and int(full.headers["Retry-After"]) > 0
    assert "error" in await full.json()
    for tag in ("1", "2"):
        (marks / f"release-{tag}").touch()
    for location in (first, second):
        assert (await wait_ended(client, location))["status"] == "done"


async def test_webhook_and_metrics(make_client: Any, tmp_path: Path) -> None:
    receiver, secret, secret_file = await webhooks(tmp_path)
    try:
        client = await make_client(
            webhook_allowed_hosts=("127.0.0.1",), webhook_secret_file=secret_file
        )
        body = {"id": "w", "inputs": [tensor("valid", "BOOL", [1], [True])]}
        _, location = await submit(
            client,
            "/v2/models/schema-output/infer",
            body,
            {"Callback-URL": receiver.url},
        )
        output = await output_of(client, location)
        await asyncio.wait_for(receiver.arrived.wait(), 30)
        text = await (await client.get("/metrics")).text()
    finally:
        await receiver.server.close()
    [(sent, headers)] = receiver.received
    delivered = Webhook(secret).verify(sent, headers)
    assert delivered["call"] == "inference" and delivered["result"]["output"] == output
    assert 'deepaas_prediction_jobs{model="schema-output",status="done"} 1.0' in text


async def test_the_document_shows_prefer_and_the_202_on_infer(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    OpenAPIV30SpecValidator(document).validate()
    for path in ("/v2/models/kinds/infer", "/v2/models/kinds/versions/{version}/infer"):
        operation = document["paths"][path]["post"]
        accepted = operation["responses"]["202"]
        assert {"Location", "Preference-Applied"} <= set(accepted["headers"])
        (prefer,) = [p for p in operation["parameters"] if p["name"] == "Prefer"]
        assert prefer["in"] == "header" and not prefer["required"]
        assert "example" not in prefer and "default" not in prefer["schema"]
        assert "Callback-URL" not in {p["name"] for p in operation["parameters"]}
        assert "429" in operation["responses"]
