"""The Open Inference Protocol with real clients against a real ``deepaas-run``.

``tritonclient[http]``'s ``InferenceServerClient`` (health, metadata, inference with
numpy inputs of every datatype, files through the binary data extension) and the
``open-inference-openapi`` client, on the iris example (trained first) and on the
``kinds`` test plugin (every kind of argument). Each answer is compared with the same
prediction made through ``/predict``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.e2e.server import Server, running
from tests.e2e.test_schemathesis import train_iris

IRIS = "iris-deepaas"
FLOWERS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("oip")
    env = {"DEEPAAS_IRIS_MODEL_DIR": str(tmp / "iris")}
    args = [f"--model-name={IRIS}", "--model-name=kinds", f"--state-dir={tmp / 'state'}"]
    with running(args, tmp / "server.log", env) as started:
        train_iris(started)
        yield started


@pytest.fixture
def client(server: Server) -> Iterator[triton.InferenceServerClient]:
    with triton.InferenceServerClient(url=server.url.removeprefix("http://")) as c:
        yield c


def predict(server: Server, model: str, body: bytes, content_type: str) -> Any:
    status, answer = server.json(
        "POST",
        f"/v2/models/{model}/predict/",
        body=body,
        headers={"Content-Type": content_type, "Accept": "application/json"},
    )
    assert status == 200, answer
    return answer["predictions"]


def test_health_and_metadata(server: Server, client: triton.InferenceServerClient) -> None:
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(IRIS) and client.is_model_ready("kinds")
    assert not client.is_model_ready("nope")
    assert client.is_model_ready("kinds", model_version="0.0.1")
    assert not client.is_model_ready("kinds", model_version="9")
    meta = client.get_server_metadata()
    assert meta["name"] == "deepaas-lite" and "binary_tensor_data" in meta["extensions"]
    iris = client.get_model_metadata(IRIS)
    assert iris["name"] == IRIS and iris["id"] == IRIS  # V2's and DEEPaaS's keys
    assert iris["inputs"] == [{"name": "data", "datatype": "FP64", "shape": [4]}]
    assert iris["outputs"] == [{"name": "labels", "datatype": "INT64", "shape": [-1]}]
    kinds = {t["name"]: t for t in client.get_model_metadata("kinds")["inputs"]}
    assert kinds["numbers"] == {"name": "numbers", "datatype": "FP64", "shape": [-1]}
    assert kinds["level"]["datatype"] == "INT64" and kinds["flag"]["datatype"] == "BOOL"
    assert kinds["colour"]["datatype"] == kinds["upload"]["datatype"] == "BYTES"
    with pytest.raises(InferenceServerException) as error:
        client.get_model_metadata("nope")
    assert error.value.status() == "404" and "nope" in error.value.message()


@pytest.mark.parametrize("binary", [True, False])
def test_iris_one_flower(
    server: Server, client: triton.InferenceServerClient, binary: bool
) -> None:
    data = triton.InferInput("data", [4], "FP64")
    data.set_data_from_numpy(np.array(FLOWERS[1], dtype=np.float64), binary_data=binary)
    outputs = [triton.InferRequestedOutput("labels", binary_data=binary)]
    result = client.infer(IRIS, [data], outputs=outputs, request_id="flower-1")
    expected = predict(server, IRIS, json.dumps({"data": FLOWERS[1]}).encode(), "application/json")
    assert result.as_numpy("labels").tolist() == expected["labels"]
    assert result.get_response()["id"] == "flower-1"
    assert result.get_response()["model_name"] == IRIS


def test_iris_batch(server: Server, client: triton.InferenceServerClient) -> None:
    """A leading batch dimension: one prediction per row, each as /predict answers it."""
    data = triton.InferInput("data", [len(FLOWERS), 4], "FP64")
    data.set_data_from_numpy(np.array(FLOWERS, dtype=np.float64))
    labels = client.infer(IRIS, [data]).as_numpy("labels")
    expected = [
        predict(server, IRIS, json.dumps({"data": f}).encode(), "application/json")["labels"]
        for f in FLOWERS
    ]
    assert labels.shape == (len(FLOWERS), 1) and labels.tolist() == expected


def test_iris_invalid_input_is_400(client: triton.InferenceServerClient) -> None:
    data = triton.InferInput("data", [3], "FP64")
    data.set_data_from_numpy(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(InferenceServerException) as error:
        client.infer(IRIS, [data])
    assert error.value.status() == "400" and "data" in error.value.message()
    wrong = triton.InferInput("data", [4], "FP32")
    wrong.set_data_from_numpy(np.array(FLOWERS[0], dtype=np.float32))
    with pytest.raises(InferenceServerException) as error:
        client.infer(IRIS, [wrong])
    assert error.value.status() == "400" and "FP64" in error.value.message()
    with pytest.raises(InferenceServerException) as error:
        client.infer("nope", [wrong])
    assert error.value.status() == "404"


def _bytes(*items: bytes) -> np.ndarray:
    return np.array(list(items), dtype=np.object_)


def _kinds_inputs(binary: bool) -> list[triton.InferInput]:
    values: list[tuple[str, str, np.ndarray]] = [
        ("numbers", "FP64", np.array([1.5, -2.0, 3.25], dtype=np.float64)),
        ("words", "BYTES", _bytes(b"a", "größe".encode())),
        ("colour", "BYTES", _bytes(b"blue")),
        ("flag", "BOOL", np.array([True])),
        ("level", "INT64", np.array([4], dtype=np.int64)),
        ("ratio", "FP64", np.array([0.25])),
        ("point", "BYTES", _bytes(b'{"x": 1.5, "y": -2}')),
        ("tags", "BYTES", _bytes(b'{"a": 1, "b": 2}')),
        ("größe", "FP64", np.array([1.75])),
    ]
    if binary:  # files: only as binary data (their bytes need not be text)
        values.append(("upload", "BYTES", _bytes(b"\x89PNG\r\n\x1a\n\x00\xff")))
        values.append(("uploads", "BYTES", _bytes(b"one", b"\x00two")))
    out = []
    for name, datatype, array in values:
        tensor = triton.InferInput(name, list(array.shape), datatype)
        out.append(tensor.set_data_from_numpy(array, binary_data=binary))
    return out


def _kinds_predict(server: Server, files: bool) -> Any:
    """The same arguments through /predict, as a multipart form."""
    fields: list[tuple[str, str | bytes, str | None]] = [
        ("numbers", "1.5", None),
        ("numbers", "-2.0", None),
        ("numbers", "3.25", None),
        ("words", "a", None),
        ("words", "größe", None),
        ("colour", "blue", None),
        ("flag", "true", None),
        ("level", "4", None),
        ("ratio", "0.25", None),
        ("point", '{"x": 1.5, "y": -2}', None),
        ("tags", '{"a": 1, "b": 2}', None),
        ("größe", "1.75", None),
    ]
    if files:
        fields += [
            ("upload", b"\x89PNG\r\n\x1a\n\x00\xff", "upload"),
            ("uploads", b"one", "uploads"),
            ("uploads", b"\x00two", "uploads"),
        ]
    boundary = uuid.uuid4().hex
    body = b""
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
            disposition += "\r\nContent-Type: application/octet-stream"
        content = value if isinstance(value, bytes) else value.encode()
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return predict(server, "kinds", body, f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("binary", [True, False])
def test_every_kind_of_argument(
    server: Server, client: triton.InferenceServerClient, binary: bool
) -> None:
    """FP64, INT64, BOOL and BYTES inputs, files through the binary extension; the
    output (a dict holding an object) is one BYTES tensor of JSON, as /predict's."""
    result = client.infer("kinds", _kinds_inputs(binary))
    (answer,) = result.as_numpy("predictions").tolist()
    assert json.loads(answer) == _kinds_predict(server, files=binary)


def test_a_batch_of_kinds(server: Server, client: triton.InferenceServerClient) -> None:
    """Tensors in the output: one output per key, each with the batch dimension."""
    numbers = triton.InferInput("numbers", [2, 2], "FP64")
    numbers.set_data_from_numpy(np.array([[1.0, 2.0], [3.0, 4.0]]))
    level = triton.InferInput("level", [2, 1], "INT64")
    level.set_data_from_numpy(np.array([[2], [5]], dtype=np.int64))
    result = client.infer("kinds", [numbers, level])
    assert result.as_numpy("numbers").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert result.as_numpy("level").tolist() == [[2], [5]]
    assert result.as_numpy("colour").tolist() == [[b"red"], [b"red"]]
    assert result.as_numpy("flag").tolist() == [[False], [False]]


def test_open_inference_openapi_client(server: Server) -> None:
    from open_inference.openapi.client import OpenInferenceClient

    with httpx.Client(timeout=60) as http:
        _open_inference_calls(OpenInferenceClient(base_url=server.url, httpx_client=http), server)


def _open_inference_calls(client: Any, server: Server) -> None:
    from open_inference.openapi import InferenceRequest, RequestInput

    client.check_server_readiness()
    client.check_model_readiness(IRIS)
    assert client.read_server_metadata().name == "deepaas-lite"
    meta = client.read_model_metadata(IRIS)
    assert meta.name == IRIS and [t.name for t in meta.inputs or []] == ["data"]
    response = client.model_infer(
        IRIS,
        request=InferenceRequest(
            inputs=[RequestInput(name="data", shape=[4], datatype="FP64", data=FLOWERS[2])]
        ),
    )
    expected = predict(server, IRIS, json.dumps({"data": FLOWERS[2]}).encode(), "application/json")
    (labels,) = response.outputs
    assert labels.name == "labels" and labels.data.__root__ == expected["labels"]


def test_malformed_body_is_400(server: Server) -> None:
    """Bad JSON is 400 with the protocol's error key."""
    status, _, body = server.request(
        "POST", "/v2/models/kinds/infer", body=b"{", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and "error" in json.loads(body)


def _infer_both_ways(
    server: Server, path: str, body: bytes, headers: dict[str, str]
) -> tuple[Any, Any]:
    """The synchronous answer, and the output of the same request submitted as a job."""
    status, _, answer = server.request("POST", path, body, headers)
    assert status == 200, answer
    status, accepted, record = server.request(
        "POST", path, body, {**headers, "Prefer": "respond-async"}
    )
    assert status == 202 and accepted["Preference-Applied"] == "respond-async", record
    location = accepted["Location"]
    assert location == f"{path.rsplit('/infer', 1)[0]}/predictions/{json.loads(record)['uuid']}"
    deadline = time.monotonic() + 60
    while (job := server.json("GET", location)[1])["status"] in {"pending", "running"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["status"] == "done", job
    status, got, output = server.request("GET", location + "/output")
    assert status == 200 and got["Content-Type"].startswith("application/json")
    assert json.loads(output) == job["result"]["output"]
    return json.loads(answer), json.loads(output)


def test_infer_as_a_job_answers_as_infer_does(server: Server) -> None:
    """Prefer: respond-async on /infer (plain HTTP: tritonclient has no jobs): the job's
    output is the synchronous answer, on iris (one flower, a batch) and on kinds."""
    iris = f"/v2/models/{IRIS}/infer"
    json_headers = {"Content-Type": "application/json", "X-Request-ID": "same"}
    one = {
        "id": "f-2",
        "inputs": [{"name": "data", "datatype": "FP64", "shape": [4], "data": FLOWERS[1]}],
    }
    batch = {"inputs": [{"name": "data", "datatype": "FP64", "shape": [3, 4], "data": FLOWERS}]}
    for body in (one, batch):
        answer, output = _infer_both_ways(server, iris, json.dumps(body).encode(), json_headers)
        assert output == answer
    assert output["id"] == "same" and output["outputs"][0]["shape"] == [3, 1]
    inputs = _kinds_inputs(binary=True)
    outputs = [triton.InferRequestedOutput("predictions", binary_data=False)]
    body, length = triton.InferenceServerClient.generate_request_body(
        inputs, outputs, request_id="k"
    )
    headers = {"Inference-Header-Content-Length": str(length)}
    answer, output = _infer_both_ways(server, "/v2/models/kinds/infer", body, headers)
    assert output == answer
    (predictions,) = output["outputs"]
    assert json.loads(predictions["data"][0]) == _kinds_predict(server, files=True)
