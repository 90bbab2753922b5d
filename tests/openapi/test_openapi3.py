"""The OpenAPI document, tested as a plain dict."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi.openapi3 import build_openapi3
from deepaas_lite.web.routes import ROUTES
from tests.conftest import marshmallow_major


@pytest.fixture(scope="module")
def spec(models: dict[str, ModelWrapper]) -> dict[str, Any]:
    return build_openapi3(ROUTES, models)


def _body(operation: dict[str, Any], media: str = "multipart/form-data") -> dict[str, Any]:
    schema: dict[str, Any] = operation["requestBody"]["content"][media]["schema"]
    return schema


def test_is_valid_openapi_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.0")
    validate(spec)


def test_every_model_has_its_operations(
    spec: dict[str, Any], models: dict[str, ModelWrapper]
) -> None:
    for model_id, model in models.items():
        assert f"/v2/models/{model_id}" in spec["paths"]
        predict = spec["paths"].get(f"/v2/models/{model_id}/predict", {})
        assert ("post" in predict) == model.can_predict
        train = spec["paths"].get(f"/v2/models/{model_id}/train", {})
        assert ("post" in train) == model.can_train
    assert spec["paths"]["/v2/models/echo/predict"]["post"]["tags"] == ["echo"]
    assert (
        spec["paths"]["/v2/models/echo/train/{uuid}"]["delete"]["parameters"][0]["name"] == "uuid"
    )


def test_argument_constraints(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v2/models/echo/predict"]["post"]
    body = _body(operation)
    props = body["properties"]
    assert body["required"] == ["data"]
    assert props["data"] == {
        "type": "array",
        "items": {"type": "number"},
        "description": "Numbers to echo",
        "minItems": 1,  # a form cannot send an empty list
    }
    assert props["mode"]["enum"] == ["plain", "upper"]
    assert props["mode"]["default"] == "plain"
    assert props["count"]["minimum"] == 1 and props["count"]["maximum"] == 10
    assert props["label"]["minLength"] == 1 and props["label"]["maxLength"] == 20
    assert "accept" not in props


def test_file_field_is_multipart_binary(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v2/models/echo/predict"]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    upload = _body(operation)["properties"]["upload"]
    assert upload["type"] == "string" and upload["format"] == "binary"
    assert upload["description"] == "A file"


def test_bodies_without_files_take_json_and_forms(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v2/models/object-plugin/predict"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "application/json",
    }


def test_accept_media_types(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v2/models/echo/predict"]["post"]
    content = operation["responses"]["200"]["content"]
    assert list(content) == ["application/json", "text/plain", "image/png"]
    assert content["image/png"]["schema"] == {"type": "string", "format": "binary"}
    assert "406" in operation["responses"]
    (accept,) = [p for p in operation["parameters"] if p["name"] == "accept"]
    assert "default" not in accept["schema"]  # else it would override the Accept header


def test_response_schema(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v2/models/schema-output/predict"]["post"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["label", "probability"]
    assert schema["properties"]["probability"]["maximum"] == 1
    assert schema["properties"]["label"]["description"] == "The label"


def test_error_schema(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    responses = spec["paths"]["/v2/models/echo/predict"]["post"]["responses"]
    for code in ("400", "404", "413", "422", "500", "501"):
        assert responses[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


def test_train_operation(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v2/models/echo/train"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Training"
    }
    props = _body(operation, "application/json")["properties"]
    assert props["epochs"]["default"] == 1


def test_marshmallow_3_keyword_metadata(models: dict[str, ModelWrapper]) -> None:
    if marshmallow_major() >= 4:
        pytest.skip("keyword metadata exists only in marshmallow 3")
    spec = build_openapi3(ROUTES, {"mm3-keywords": models["mm3-keywords"]})
    validate(spec)
    operation = spec["paths"]["/v2/models/mm3-keywords/predict"]["post"]
    props = _body(operation)["properties"]
    assert props["data"]["type"] == "string" and props["data"]["format"] == "binary"
    assert props["data"]["description"] == "Data file to process"
    assert "location" not in props["data"]
    assert props["threshold"]["default"] == 0.5
    assert props["threshold"]["description"] == "Decision threshold"


def test_base_path(models: dict[str, ModelWrapper]) -> None:
    spec = build_openapi3(ROUTES, models, base_path="/x")
    validate(spec)
    assert all(path.startswith("/x") for path in spec["paths"])


def _bodies(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, media, content["schema"])
        for path, item in spec["paths"].items()
        for operation in item.values()
        for media, content in operation.get("requestBody", {}).get("content", {}).items()
    ]


def test_request_bodies_allow_no_other_keys(spec: dict[str, Any]) -> None:
    """Unknown keys are 422 in every location, so no body schema allows them."""
    bodies = _bodies(spec)
    assert len(bodies) > 10
    for path, media, schema in bodies:
        assert schema["additionalProperties"] is False, (path, media)
        assert "accept" not in schema["properties"], (path, media)


def test_object_arguments_are_json_parts(spec: dict[str, Any]) -> None:
    """A Nested or Dict argument is JSON text in a multipart part; urlencoded cannot carry it."""
    predict = spec["paths"]["/v2/models/kinds/predict"]["post"]["requestBody"]["content"]
    assert list(predict) == ["multipart/form-data"]
    encoding = predict["multipart/form-data"]["encoding"]
    assert encoding["point"] == encoding["tags"] == {"contentType": "application/json"}
    train = spec["paths"]["/v2/models/kinds/train"]["post"]["requestBody"]["content"]
    assert list(train) == ["multipart/form-data", "application/json"]
    assert "encoding" not in train["application/json"]


def test_lists_of_files_make_multipart_bodies(spec: dict[str, Any]) -> None:
    content = spec["paths"]["/v2/models/kinds/predict"]["post"]["requestBody"]["content"]
    uploads = content["multipart/form-data"]["schema"]["properties"]["uploads"]
    assert uploads["type"] == "array"
    assert uploads["items"]["format"] == "binary"


def test_required_lists_need_an_item_in_forms(spec: dict[str, Any]) -> None:
    """An empty list cannot be sent as form fields: it would be a missing argument."""
    content = spec["paths"]["/v2/models/kinds/train"]["post"]["requestBody"]["content"]
    assert content["multipart/form-data"]["schema"]["properties"]["words"]["minItems"] == 1
    assert "minItems" not in content["application/json"]["schema"]["properties"]["words"]
    optional = content["multipart/form-data"]["schema"]["properties"]["options"]
    assert "minItems" not in optional


def test_every_answer_of_predict_and_train_is_documented(spec: dict[str, Any]) -> None:
    predict = spec["paths"]["/v2/models/kinds/predict"]["post"]["responses"]
    assert {"400", "404", "406", "413", "415", "422", "500", "501", "503", "504"} <= set(predict)
    train = spec["paths"]["/v2/models/kinds/train"]["post"]["responses"]
    assert {"400", "404", "413", "415", "422", "429", "501", "507"} <= set(train)
    assert train["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert predict["503"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_exclusive_range_bounds(spec: dict[str, Any]) -> None:
    """``Range(min=0, min_inclusive=False)``: 0 is refused, so the document says so."""
    train = spec["paths"]["/v2/models/iris-deepaas/train"]["post"]
    c = _body(train, "application/json")["properties"]["C"]
    assert (c["minimum"], c["exclusiveMinimum"]) == (0, True)
    assert "exclusiveMaximum" not in c
    predict = spec["paths"]["/v2/models/kinds/predict"]["post"]
    ratio = _body(predict)["properties"]["ratio"]
    assert (ratio["minimum"], ratio["maximum"], ratio["exclusiveMaximum"]) == (0, 1, True)
    assert "exclusiveMinimum" not in ratio


def test_no_optional_parameter_is_filled_in_for_swagger_ui(
    models: dict[str, ModelWrapper],
) -> None:
    """Swagger UI puts a parameter's example (or default) into its "Try it out" field, and
    Execute sends it: an optional header with one (Prefer: respond-async) made every
    predict from the UI a prediction job (202), and an accept default would override
    the Accept the UI sends."""
    spec = build_openapi3(ROUTES, models)
    filled = [
        (path, parameter["name"])
        for path, operations in spec["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if not parameter.get("required")
        and parameter["in"] in ("header", "query")
        and ("example" in parameter or "default" in parameter.get("schema", {}))
    ]
    assert filled == []
