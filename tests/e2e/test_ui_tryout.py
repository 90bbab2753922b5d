"""Swagger UI in a real headless Chromium: "Try it out", "Execute", read the answer.

Every operation of the iris example and of the ``kinds`` test plugin (every kind of
argument) is executed with the form as the UI first shows it: what the browser sends
must be read as the equivalent JSON body is, and the rendered answer must be right.
Screenshots of each operation are saved under ``$DEEPAAS_UI_SHOTS`` (default: the
test's temporary directory); the path is printed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import needs_chromium
from tests.e2e.server import Server, running
from tests.e2e.swagger_ui import SwaggerUI

pytestmark = needs_chromium

IRIS = "/v2/models/iris-deepaas"
KINDS = "/v2/models/kinds"


def _post_json(server: Server, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    return server.json(
        "POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


def _typed(schema: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The form's text as the equivalent JSON body: typed by the document's schema."""
    properties = schema["properties"]

    def typed(prop: dict[str, Any], text: Any) -> Any:
        kind = prop.get("type")
        if kind == "array":
            return [typed(prop.get("items", {}), item) for item in text]
        if kind == "number":
            return float(text)
        if kind == "integer":
            return int(text)
        if kind == "boolean":
            return text == "true"
        return text

    def is_file(prop: dict[str, Any]) -> bool:
        return "binary" in (prop.get("format"), prop.get("items", {}).get("format"))

    return {
        key: typed(properties[key], value)
        for key, value in form.items()
        if value != "" and not is_file(properties[key])
    }


def _form_schema(document: dict[str, Any], path: str, media: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path]["post"]["requestBody"]["content"][media][
        "schema"
    ]
    return schema


@pytest.fixture
def iris_ui(tmp_path: Path, page: Page, shots: Path) -> Iterator[tuple[Server, SwaggerUI]]:
    args = ["--model-name", "iris-deepaas", "--state-dir", str(tmp_path / "state")]
    env = {"DEEPAAS_IRIS_MODEL_DIR": str(tmp_path / "iris")}
    with running(args, tmp_path / "server.log", env=env) as server:
        ui = SwaggerUI(page, shots)
        ui.open(server.url + "/ui")
        yield server, ui


def test_iris_every_operation(iris_ui: tuple[Server, SwaggerUI]) -> None:
    server, ui = iris_ui
    assert (ui.version()).split(".")[0] == "5"
    tag = ui.page.locator(".opblock-tag-section").first.inner_text()
    assert "version: 0.1.0" in tag and "license: Apache-2.0" in tag and "Home page" in tag

    # Predicting before any training: a one-line 503, logged without a traceback.
    ui.try_out("post", f"{IRIS}/predict")
    answer = ui.execute("post", f"{IRIS}/predict", "predict-before-training")
    assert answer.status == 503
    assert answer.json()["message"].startswith("No trained model yet")
    log = server.output()
    assert "No trained model yet" in log and "Traceback" not in log

    # Train with the form as shown: the defaults, read as the JSON body {} is.
    ui.try_out("post", f"{IRIS}/train")
    answer = ui.execute("post", f"{IRIS}/train", "train")
    assert answer.status == 200
    record = answer.json()
    status, from_json = _post_json(server, f"{IRIS}/train", {})
    assert status == 200 and record["args"] == from_json["args"]
    uuid = record["uuid"]

    # One training, then the other: poll the first as a user would, with Execute.
    ui.try_out("get", f"{IRIS}/train/{{uuid}}")
    ui.fill("get", f"{IRIS}/train/{{uuid}}", "uuid", uuid)
    for _ in range(120):
        answer = ui.execute("get", f"{IRIS}/train/{{uuid}}", "training")
        assert answer.status == 200 and answer.json()["uuid"] == uuid
        if answer.json()["status"] not in ("pending", "running"):
            break
        time.sleep(0.5)
    assert answer.json()["status"] == "done", answer.json()
    assert answer.json()["result"]["output"]["accuracy"] > 0.8
    _wait_done(server, from_json["uuid"])

    ui.try_out("get", f"{IRIS}/train")
    answer = ui.execute("get", f"{IRIS}/train", "trainings")
    assert answer.status == 200
    assert [r["uuid"] for r in answer.json()] == [uuid, from_json["uuid"]]

    ui.try_out("get", f"{IRIS}/train/{{uuid}}/log")
    ui.fill("get", f"{IRIS}/train/{{uuid}}/log", "uuid", uuid)
    answer = ui.execute("get", f"{IRIS}/train/{{uuid}}/log", "log")
    assert answer.status == 200 and answer.media_type.startswith("text/plain")

    # Predict with the example flower, from each request body type the UI offers.
    document = server.json("GET", "/openapi.json")[1]
    status, expected = _post_json(server, f"{IRIS}/predict", {"data": [5.1, 3.5, 1.4, 0.2]})
    assert status == 200 and expected == {"status": "OK", "predictions": {"labels": [0]}}
    form = ui.form_values("post", f"{IRIS}/predict")
    schema = _form_schema(document, f"{IRIS}/predict", "multipart/form-data")
    assert _typed(schema, form) == {"data": [5.1, 3.5, 1.4, 0.2]}
    for media in ("multipart/form-data", "application/x-www-form-urlencoded", "application/json"):
        if media != "multipart/form-data":  # the first one, as shown
            ui.body_type("post", f"{IRIS}/predict", media)
        answer = ui.execute("post", f"{IRIS}/predict", f"predict-{media.split('/')[1]}")
        assert answer.status == 200, answer
        assert answer.json() == expected
        assert f"Content-Type: {media}" in answer.curl

    ui.try_out("get", IRIS)
    answer = ui.execute("get", IRIS, "model")
    assert answer.status == 200 and answer.json()["version"] == "0.1.0"

    # The API's own operations.
    for path in ("/", "/v2", "/v2/models", "/v2/health/live", "/v2/health/ready", "/metrics"):
        ui.try_out("get", path)
        answer = ui.execute("get", path, f"api{path.replace('/', '-')}")
        assert answer.status == 200, answer
        if path == "/v2/models":
            assert [m["id"] for m in answer.json()["models"]] == ["iris-deepaas"]

    ui.try_out("delete", f"{IRIS}/train/{{uuid}}")
    ui.fill("delete", f"{IRIS}/train/{{uuid}}", "uuid", uuid)
    answer = ui.execute("delete", f"{IRIS}/train/{{uuid}}", "delete-training")
    assert answer.status == 200 and answer.json()["uuid"] == uuid
    assert server.json("GET", f"{IRIS}/train/{uuid}")[0] == 404


def _wait_done(server: Server, uuid: str) -> None:
    for _ in range(240):
        _, record = server.json("GET", f"{IRIS}/train/{uuid}")
        if record["status"] not in ("pending", "running"):
            return
        time.sleep(0.25)
    raise AssertionError(f"training {uuid} did not end")


@pytest.fixture
def kinds_ui(tmp_path: Path, page: Page, shots: Path) -> Iterator[tuple[Server, SwaggerUI]]:
    args = ["--model-name", "kinds", "--state-dir", str(tmp_path / "state")]
    with running(args, tmp_path / "server.log") as server:
        ui = SwaggerUI(page, shots)
        ui.open(server.url + "/ui")
        yield server, ui


def test_every_kind_of_argument(kinds_ui: tuple[Server, SwaggerUI], tmp_path: Path) -> None:
    server, ui = kinds_ui
    predict = f"{KINDS}/predict"
    document = server.json("GET", "/openapi.json")[1]
    schema = _form_schema(document, predict, "multipart/form-data")

    # The form as first shown, no file chosen: the same arguments as its JSON body.
    ui.try_out("post", predict)
    body = _typed(schema, ui.form_values("post", predict))
    assert body["numbers"] == [1.5, 2]  # the field's example
    assert body["colour"] == "red" and body["level"] == 1  # defaults
    answer = ui.execute("post", predict, "predict-as-shown")
    assert answer.status == 200, answer
    status, expected = _post_json(server, predict, body)
    assert status == 200
    assert answer.json()["predictions"] == expected["predictions"], (body, answer.curl)
    for key in ("numbers", "words", "point", "tags", "flag", "colour", "level", "ratio"):
        assert key in answer.json()["predictions"], key

    # With a file and a list of two files chosen.
    one, two, three = tmp_path / "one.txt", tmp_path / "two.png", tmp_path / "three.csv"
    one.write_text("first")
    two.write_bytes(b"\x89PNG\r\n\x1a\n")
    three.write_text("a,b\n1,2\n")
    ui.set_files("post", predict, "upload", [one])
    ui.add_item("post", predict, "uploads")
    ui.add_item("post", predict, "uploads")
    ui.set_files("post", predict, "uploads", [two, three])
    answer = ui.execute("post", predict, "predict-with-files")
    assert answer.status == 200, answer
    got = answer.json()["predictions"]
    assert got["upload"] == {
        "name": "upload",
        "original_filename": "one.txt",
        "content_type": "text/plain",
        "size": 5,
    }
    assert [(u["original_filename"], u["size"]) for u in got["uploads"]] == [
        ("two.png", 8),
        ("three.csv", 8),
    ]
    assert {k: v for k, v in got.items() if k not in ("upload", "uploads")} == (
        expected["predictions"]
    )

    # The response's media type sets Accept, and the answer is the plugin's raw one.
    accept = ".response-control-media-type--accept-controller select"
    ui.choose("post", predict, accept, "text/plain")
    answer = ui.execute("post", predict, "predict-text")
    assert answer.status == 200 and answer.media_type.startswith("text/plain")
    assert json.loads(answer.body)["numbers"] == [1.5, 2.0]
    ui.choose("post", predict, accept, "image/png")
    answer = ui.execute("post", predict, "predict-png")
    assert answer.status == 200 and answer.media_type == "image/png" and answer.image
    # ?accept= is the API's override of the Accept header (docs/plugin-guide.md).
    ui.choose("post", predict, "tr[data-param-name='accept'] select", "text/plain")
    answer = ui.execute("post", predict, "predict-accept-parameter")
    assert answer.status == 200 and answer.media_type.startswith("text/plain")

    # train (no files: multipart or JSON), and the trainings.
    train = f"{KINDS}/train"
    train_schema = _form_schema(document, train, "multipart/form-data")
    ui.try_out("post", train)
    body = _typed(train_schema, ui.form_values("post", train))
    answer = ui.execute("post", train, "train-multipart")
    assert answer.status == 200, answer
    status, from_json = _post_json(server, train, body)
    assert status == 200 and answer.json()["args"] == from_json["args"]
    ui.body_type("post", train, "application/json")
    answer = ui.execute("post", train, "train-json")
    assert answer.status == 200, answer

    ui.try_out("get", train)
    answer = ui.execute("get", train, "trainings")
    assert answer.status == 200 and len(answer.json()) == 3
