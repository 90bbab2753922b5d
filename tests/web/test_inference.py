"""The Open Inference Protocol's routes, in-process: metadata, readiness, inference,
errors in the protocol's shape, the binary data extension, batches and the documents."""

from __future__ import annotations

import json
import struct
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import OpenAPIV30SpecValidator

Client = TestClient[web.Request, web.Application]


async def infer(client: Client, model: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
    resp = await client.post(f"/v2/models/{model}/infer", json=body, **kwargs)
    return resp.status, await resp.json()


def tensor(name: str, datatype: str, shape: list[int], data: list[Any]) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


async def test_server_metadata_in_the_version_object(client: Client) -> None:
    for path in ("/v2", "/v2/"):
        body = await (await client.get(path)).json()
        assert body["id"] == "v2" and body["links"]  # DEEPaaS's version object
        assert body["name"] == "deepaas-lite" and body["extensions"] == ["binary_tensor_data"]
        assert body["version"] != "stable"  # the server's version, V2's meaning
    listed = await (await client.get("/")).json()
    assert listed["versions"][0]["version"] == "stable"  # DEEPaaS's listing is unchanged


async def test_model_metadata_both_spellings(client: Client) -> None:
    """``/v2/models/{id}`` and ``.../{id}/`` are the same answer, for both kinds of client."""
    one = await (await client.get("/v2/models/schema-output")).json()
    assert one == await (await client.get("/v2/models/schema-output/")).json()
    assert one["id"] == one["name"] == "schema-output" and one["links"]
    assert one["inputs"] == [{"name": "valid", "datatype": "BOOL", "shape": [1]}]
    assert one["outputs"] == [
        {"name": "label", "datatype": "BYTES", "shape": [1]},
        {"name": "probability", "datatype": "FP64", "shape": [1]},
    ]
    resp = await client.get("/v2/models/nope")
    assert resp.status == 404 and (await resp.json())["error"] == "Model 'nope' not found"


async def test_versions(client: Client) -> None:
    version = (await (await client.get("/v2/models/bare/")).json())["version"]
    meta = await (await client.get(f"/v2/models/bare/versions/{version}")).json()
    assert meta["versions"] == [version]
    resp = await client.get("/v2/models/bare/versions/0.0.0/ready/")
    body = await resp.json()
    assert resp.status == 404 and body["error"] == body["message"]
    assert f"serves '{version}'" in body["error"]


async def test_model_ready(client: Client) -> None:
    resp = await client.get("/v2/models/echo/ready")
    assert resp.status == 200 and await resp.json() == {"name": "echo", "ready": True}
    assert (await client.get("/v2/models/nope/ready")).status == 404


async def test_infer_equals_predict(client: Client) -> None:
    status, answer = await infer(
        client,
        "schema-output",
        {"id": "r1", "inputs": [tensor("valid", "BOOL", [1], [True])]},
    )
    assert status == 200, answer
    predicted = await (await client.post("/v2/models/schema-output/predict/")).json()
    assert answer["id"] == "r1" and answer["model_name"] == "schema-output"
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["label"] == tensor("label", "BYTES", [1], [predicted["label"]])
    assert outputs["probability"]["data"] == [predicted["probability"]]


async def test_without_id_the_request_id(client: Client) -> None:
    resp = await client.post(
        "/v2/models/schema-output/infer", json={"inputs": []}, headers={"X-Request-ID": "abc-1"}
    )
    assert (await resp.json())["id"] == "abc-1"


async def test_output_breaking_its_schema_is_500(client: Client) -> None:
    status, body = await infer(
        client, "schema-output", {"inputs": [tensor("valid", "BOOL", [1], [False])]}
    )
    assert status == 500 and "probability" in body["error"], body


async def test_plugin_failure_is_500(client: Client) -> None:
    body = {"inputs": [tensor("kind", "BYTES", [1], ["value"])]}
    status, answer = await infer(client, "raising", body)
    assert status == 500 and answer["error"] == answer["message"] == "the plugin says no"


async def test_invalid_inputs_are_400(client: Client) -> None:
    cases = [
        ({"inputs": "x"}, "'inputs'"),
        ({"inputs": [], "extra": 1}, "'extra'"),
        ({"inputs": [tensor("nope", "BOOL", [1], [True])]}, "no input 'nope'"),
        ({"inputs": [tensor("valid", "FP64", [1], [1.0])]}, "expected BOOL"),
        ({"inputs": [tensor("valid", "BOOL", [1], [1])]}, "true or false"),
        ({"inputs": [tensor("valid", "BOOL", [2], [True])]}, "shape"),
        ({"inputs": [tensor("valid", "BOOL", [1], True)]}, "not a list"),
        ({"inputs": [tensor("valid", "BOOL", [1], [[True]])]}, "nested"),
        ({"inputs": [tensor("valid", "BOOL", [1], [True])] * 2}, "twice"),
        ({"inputs": [], "outputs": [{"name": "nope"}]}, "No output 'nope'"),
        ({"inputs": [], "outputs": None}, "'outputs' is not a list"),
        ({"inputs": [], "outputs": [{"name": {}}]}, "No output {}"),
        ({"inputs": [], "parameters": None}, "'parameters' is not an object"),
        ({"inputs": [], "id": 7}, "'id' is not a string"),
    ]
    for body, words in cases:
        status, answer = await infer(client, "schema-output", body)
        assert status == 400 and words in answer["error"], (body, answer)
        assert answer["code"] == 400 and answer["message"] == answer["error"]


async def test_argument_validation_is_400(client: Client) -> None:
    status, answer = await infer(client, "kinds", {"inputs": [tensor("level", "INT64", [1], [9])]})
    assert status == 400
    assert "numbers: Missing data" in answer["error"] and "level:" in answer["error"]


async def test_malformed_bodies_are_400(client: Client) -> None:
    resp = await client.post("/v2/models/kinds/infer", data=b"{", headers={"Content-Type": "x/y"})
    assert resp.status == 400 and "error" in await resp.json()
    resp = await client.post(
        "/v2/models/kinds/infer",
        data=b'{"inputs": []}',
        headers={"Inference-Header-Content-Length": "99"},
    )
    assert resp.status == 400 and "Inference-Header-Content-Length" in (await resp.json())["error"]


def binary_body(header: dict[str, Any], *blobs: bytes) -> tuple[bytes, dict[str, str]]:
    text = json.dumps(header).encode()
    headers = {"Inference-Header-Content-Length": str(len(text))}
    return text + b"".join(blobs), headers


def length_prefixed(*items: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


async def test_binary_inputs_and_outputs(client: Client) -> None:
    """Binary inputs of each datatype, a file among them; outputs asked for as binary."""
    numbers = struct.pack("<3d", 1.5, 2.0, -3.0)
    level = struct.pack("<q", 3)
    flag = b"\x01"
    upload = length_prefixed(b"\x00\xffbytes")
    words = length_prefixed(b"a", "größe".encode())
    inputs = [
        {
            "name": "numbers",
            "datatype": "FP64",
            "shape": [3],
            "parameters": {"binary_data_size": 24},
        },
        {"name": "level", "datatype": "INT64", "shape": [1], "parameters": {"binary_data_size": 8}},
        {"name": "flag", "datatype": "BOOL", "shape": [1], "parameters": {"binary_data_size": 1}},
        {
            "name": "upload",
            "datatype": "BYTES",
            "shape": [1],
            "parameters": {
                "binary_data_size": len(upload),
                "content_type": "image/png",
                "filename": "a.png",
            },
        },
        {
            "name": "words",
            "datatype": "BYTES",
            "shape": [2],
            "parameters": {"binary_data_size": len(words)},
        },
    ]
    body, headers = binary_body(
        {"inputs": inputs, "parameters": {"binary_data_output": True}},
        numbers,
        level,
        flag,
        upload,
        words,
    )
    resp = await client.post("/v2/models/kinds/infer", data=body, headers=headers)
    assert resp.status == 200, await resp.text()
    raw = await resp.read()
    length = int(resp.headers["Inference-Header-Content-Length"])
    answer = json.loads(raw[:length])
    (output,) = answer["outputs"]
    size = output["parameters"]["binary_data_size"]
    assert output["datatype"] == "BYTES" and len(raw) == length + size
    (text,) = _split(raw[length:])
    assert json.loads(text) == {
        "numbers": [1.5, 2.0, -3.0],
        "level": 3,
        "flag": True,
        "colour": "red",
        "words": ["a", "größe"],
        "upload": {
            "name": "upload",
            "original_filename": "a.png",
            "content_type": "image/png",
            "size": 7,
        },
    }


def _split(raw: bytes) -> list[bytes]:
    items, at = [], 0
    while at < len(raw):
        (n,) = struct.unpack_from("<I", raw, at)
        items.append(raw[at + 4 : at + 4 + n])
        at += 4 + n
    return items


async def test_binary_sizes_must_add_up(client: Client) -> None:
    inputs = [
        {"name": "numbers", "datatype": "FP64", "shape": [1], "parameters": {"binary_data_size": 8}}
    ]
    body, headers = binary_body({"inputs": inputs}, b"\x00" * 9)
    resp = await client.post("/v2/models/kinds/infer", data=body, headers=headers)
    assert resp.status == 400 and "binary_data_size" in (await resp.json())["error"]
    body, headers = binary_body({"inputs": inputs}, b"\x00" * 4)
    resp = await client.post("/v2/models/kinds/infer", data=body, headers=headers)
    assert resp.status == 400


async def test_batch_goes_to_predict_batch(client: Client) -> None:
    """A leading batch dimension: the rows reach the plugin's predict_batch together."""
    body = {"inputs": [tensor("x", "INT64", [3, 1], [1, 2, 3])]}
    status, answer = await infer(client, "batch-only", body)
    assert status == 200, answer
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["double"] == tensor("double", "INT64", [3, 1], [2, 4, 6])
    assert outputs["batch"]["data"] == [3, 3, 3]  # one predict_batch call of 3


async def test_batch_with_a_failing_row(client: Client) -> None:
    body = {
        "inputs": [
            tensor("x", "INT64", [2], [1, 2]),
            tensor("fail", "BYTES", [2], ["none", "one"]),
        ]
    }
    status, answer = await infer(client, "batch-only", body)
    assert status == 500 and "x=2 is not welcome" in answer["error"]


async def test_infer_without_predict_is_501(client: Client) -> None:
    status, body = await infer(client, "metadata-only", {"inputs": []})
    assert status == 501 and "error" in body


async def test_disabled_predict_endpoint_disables_infer(make_client: Any) -> None:
    client = await make_client(predict_endpoint=False)
    status, _ = await infer(client, "echo", {"inputs": []})
    assert status == 404


async def test_documents(client: Client) -> None:
    openapi = await (await client.get("/openapi.json")).json()
    OpenAPIV30SpecValidator(openapi).validate()
    infer_op = openapi["paths"]["/v2/models/kinds/infer"]["post"]
    assert infer_op["tags"] == ["inference"]
    schema = infer_op["requestBody"]["content"]["application/json"]["schema"]
    inputs = schema["properties"]["inputs"]
    names = {item["properties"]["name"]["enum"][0] for item in inputs["items"]["oneOf"]}
    assert {"numbers", "point", "upload", "größe"} <= names and "accept" not in names
    assert inputs["x-required-inputs"] == ["numbers"]
    assert "| input | `numbers` (required) | FP64 | [-1] |" in infer_op["description"]
    iris_like = openapi["paths"]["/v2/models/schema-output/infer"]["post"]["requestBody"]
    outputs = iris_like["content"]["application/json"]["schema"]["properties"]["outputs"]
    assert outputs["items"]["properties"]["name"]["enum"] == ["label", "probability"]
    assert "/v2/models/kinds/versions/{version}/ready" in openapi["paths"]
    assert any(tag["name"] == "inference" for tag in openapi["tags"])
    swagger = await (await client.get("/swagger.json")).json()
    assert not any(p.endswith(("/infer/", "/ready/")) and "models" in p for p in swagger["paths"])
    assert "/v2/models/kinds/versions/{version}/" not in swagger["paths"]


async def test_tokens_as_on_predict(make_client: Any, tmp_path: Any) -> None:
    """With tokens, inferring needs one (401 in the protocol's shape); the metadata
    and readiness are open, like the model's description."""
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret-token\n")
    client = await make_client(auth_token_file=tokens)
    body = {"inputs": [tensor("valid", "BOOL", [1], [True])]}
    for path in ("/v2/models/schema-output/infer", "/v2/models/schema-output/infer/"):
        resp = await client.post(path, json=body)
        answer = await resp.json()
        assert resp.status == 401 and answer["error"] == answer["message"]
        resp = await client.post(path, json=body, headers={"Authorization": "Bearer s3cret-token"})
        assert resp.status == 200
    assert (await client.get("/v2/models/schema-output/ready")).status == 200
    assert (await client.get("/v2/models/schema-output")).status == 200
    openapi = await (await client.get("/openapi.json")).json()
    infer_op = openapi["paths"]["/v2/models/schema-output/infer"]["post"]
    assert infer_op["security"] and "401" in infer_op["responses"]


async def test_json_size_limit_and_large_json(make_client: Any) -> None:
    """The JSON of a request is held to --json-max-size (413 naming binary data); a
    large one within it is read (in a thread) and answered."""
    client = await make_client(json_max_size=100_000)
    numbers = [0.5] * 20_000  # about 100 KB of JSON
    body = {"inputs": [tensor("numbers", "FP64", [len(numbers)], numbers)]}
    resp = await client.post("/v2/models/kinds/infer", json=body)
    answer = await resp.json()
    assert resp.status == 413 and "binary data" in answer["error"]
    body = {"inputs": [tensor("numbers", "FP64", [9_000], [0.25] * 9_000)]}
    status, answer = await infer(client, "kinds", body)
    assert status == 200, answer
    (output,) = [o for o in answer["outputs"] if o["name"] == "numbers"]
    assert output["shape"] == [9_000] and output["data"] == [0.25] * 9_000
