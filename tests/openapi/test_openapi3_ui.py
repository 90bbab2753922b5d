"""What Swagger UI needs of the document: form encodings, Accept, examples, tags."""

from __future__ import annotations

from typing import Any

import pytest

from deepaas_lite.model import loading
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi.openapi3 import build_openapi3
from deepaas_lite.web.routes import ROUTES

MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture(scope="module")
def spec(models: dict[str, ModelWrapper]) -> dict[str, Any]:
    served = {**models, "iris-deepaas": loading.load_model("iris-deepaas")}
    return build_openapi3(ROUTES, served)


def _op(spec: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"][path][method]
    return operation


def test_lists_in_forms_are_repeated_keys(spec: dict[str, Any]) -> None:
    """Swagger UI joins an array with commas unless the encoding says explode."""
    content = _op(spec, "/v2/models/iris-deepaas/predict")["requestBody"]["content"]
    for media in (MULTIPART, URLENCODED):
        assert content[media]["encoding"] == {"data": {"style": "form", "explode": True}}
    assert "encoding" not in content[JSON]
    train = _op(spec, "/v2/models/echo/train")["requestBody"]["content"]
    assert all("encoding" not in media for media in train.values())  # no list
    kinds = _op(spec, "/v2/models/kinds/predict")["requestBody"]["content"][MULTIPART]
    assert kinds["encoding"]["numbers"] == {"style": "form", "explode": True}
    assert kinds["encoding"]["words"] == {"style": "form", "explode": True}
    assert kinds["encoding"]["point"] == {"contentType": JSON}
    assert "uploads" not in kinds["encoding"]  # files are parts of their own anyway


def test_a_form_comes_first(spec: dict[str, Any]) -> None:
    content = _op(spec, "/v2/models/iris-deepaas/predict")["requestBody"]["content"]
    assert list(content) == [MULTIPART, URLENCODED, JSON]


def test_the_accept_parameter_leaves_the_choice_to_the_accept_header(
    spec: dict[str, Any],
) -> None:
    (accept,) = [
        p for p in _op(spec, "/v2/models/echo/predict")["parameters"] if p["in"] != "header"
    ]
    assert accept["name"] == "accept" and accept["in"] == "query"
    assert "default" not in accept["schema"] and "example" not in accept
    assert accept["schema"]["enum"] == ["application/json", "text/plain", "image/png"]
    assert "Accept header" in accept["description"]


def test_field_examples_and_defaults_are_examples(spec: dict[str, Any]) -> None:
    body = _op(spec, "/v2/models/iris-deepaas/predict")["requestBody"]["content"]
    data = body[MULTIPART]["schema"]["properties"]["data"]
    assert data["example"] == [5.1, 3.5, 1.4, 0.2]
    assert body[JSON]["schema"]["properties"]["data"]["example"] == [5.1, 3.5, 1.4, 0.2]
    train = _op(spec, "/v2/models/iris-deepaas/train")["requestBody"]["content"]
    assert train[MULTIPART]["schema"]["properties"]["kernel"]["default"] == "rbf"


def test_the_answer_example_is_the_plugins(spec: dict[str, Any]) -> None:
    ok = _op(spec, "/v2/models/iris-deepaas/predict")["responses"]["200"]["content"][JSON]
    assert ok["example"] == {"status": "OK", "predictions": {"labels": [0]}}
    # No example given: Swagger UI builds one from the schema.
    assert (
        "example" not in _op(spec, "/v2/models/echo/predict")["responses"]["200"]["content"][JSON]
    )


def test_error_examples_have_the_error_shape(spec: dict[str, Any]) -> None:
    responses = _op(spec, "/v2/models/iris-deepaas/predict")["responses"]
    for code, response in responses.items():
        if code.startswith(("4", "5")):
            example = response["content"][JSON]["example"]
            assert example["code"] == int(code) and example["message"]
    invalid = responses["422"]["content"][JSON]["example"]
    (messages,) = invalid["errors"].values()
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    assert "errors" not in responses["404"]["content"][JSON]["example"]


def test_the_model_metadata_is_on_its_tag(spec: dict[str, Any]) -> None:
    (tag,) = [t for t in spec["tags"] if t["name"] == "iris-deepaas"]
    assert "An SVM classifier" in tag["description"]
    for fact in ("0.1.0", "The deepaas-lite developers", "Apache-2.0"):
        assert fact in tag["description"]
    assert tag["externalDocs"]["url"] == "https://archive.ics.uci.edu/dataset/53/iris"
