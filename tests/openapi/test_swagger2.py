"""The Swagger 2.0 document at /swagger.json: valid, and shaped as DEEPaaS clients read it."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV30SpecValidator

from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi.openapi3 import build_openapi3
from deepaas_lite.openapi.swagger2 import build_swagger2
from deepaas_lite.web.routes import ROUTES
from tests.conftest import marshmallow_major

Client = Any


@pytest.fixture(scope="module")
def swagger(models: dict[str, ModelWrapper]) -> dict[str, Any]:
    return build_swagger2(ROUTES, models, build_openapi3(ROUTES, models))


def test_is_valid_swagger_2(swagger: dict[str, Any]) -> None:
    assert swagger["swagger"] == "2.0"
    OpenAPIV2SpecValidator(swagger).validate()


def test_every_path_ends_in_a_slash(swagger: dict[str, Any]) -> None:
    assert all(path.endswith("/") for path in swagger["paths"])
    assert "/v2/models/echo/predict/" in swagger["paths"]
    assert "/v2/models/echo/train/" in swagger["paths"]
    assert "/v2/models/echo/train/{uuid}/" in swagger["paths"]


def test_predict_parameters_as_deepaas_clients_read_them(swagger: dict[str, Any]) -> None:
    """What the AI4OS Gradio UI reads: parameters (name, type, enum, default), produces."""
    post = swagger["paths"]["/v2/models/echo/predict/"]["post"]
    params = {p["name"]: p for p in post["parameters"]}
    assert params["data"] == {
        "name": "data",
        "in": "query",
        "required": True,
        "type": "array",
        "items": {"type": "number"},
        "collectionFormat": "multi",
        "description": "Numbers to echo",
    }
    assert params["mode"]["enum"] == ["plain", "upper"] and params["mode"]["default"] == "plain"
    assert (params["count"]["minimum"], params["count"]["maximum"]) == (1, 10)
    assert params["upload"] == {
        "name": "upload",
        "in": "formData",
        "required": False,
        "type": "file",
        "description": "A file",
    }
    assert post["consumes"] == ["multipart/form-data"]
    assert post["parameters"][-1]["name"] == "accept"
    assert post["parameters"][-1]["in"] == "header"
    assert post["produces"] == ["application/json", "text/plain", "image/png"]


def test_the_accept_parameter_leaves_the_choice_to_the_accept_header(
    swagger: dict[str, Any],
) -> None:
    """No default: a client filling in defaults would send it always, overriding the
    media type chosen by the Accept header (as the OpenAPI 3 document says too)."""
    post = swagger["paths"]["/v2/models/echo/predict/"]["post"]
    (accept,) = [p for p in post["parameters"] if p["name"] == "accept"]
    assert "default" not in accept
    assert accept["enum"] == ["application/json", "text/plain", "image/png"]


def test_json_only_model_produces_json(swagger: dict[str, Any]) -> None:
    post = swagger["paths"]["/v2/models/class-plugin/predict/"]["post"]
    assert post["produces"] == ["application/json"]
    assert "consumes" not in post


def test_response_schema_is_a_definition(swagger: dict[str, Any]) -> None:
    post = swagger["paths"]["/v2/models/schema-output/predict/"]["post"]
    ref = post["responses"]["200"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[-1]
    assert name.startswith("ModelPredictionResponse")
    assert swagger["definitions"][name]["properties"]
    assert "ModelPredictionResponse" in swagger["definitions"]


def test_own_answers_are_definitions(swagger: dict[str, Any]) -> None:
    assert {"Error", "Training", "Model", "Version", "Link"} <= set(swagger["definitions"])
    train = swagger["paths"]["/v2/models/echo/train/"]["post"]
    assert train["responses"]["200"]["schema"] == {"$ref": "#/definitions/Training"}
    assert train["responses"]["422"]["schema"] == {"$ref": "#/definitions/Error"}
    link = swagger["definitions"]["Model"]["properties"]["links"]["items"]
    assert link == {"$ref": "#/definitions/Link"}
    get = swagger["paths"]["/v2/models/echo/train/{uuid}/"]["get"]
    assert get["parameters"][0]["in"] == "path"


def test_marshmallow_3_keyword_plugin(models: dict[str, ModelWrapper]) -> None:
    if marshmallow_major() >= 4:
        pytest.skip("keyword metadata loads under marshmallow 3 only")
    served = {name: models[name] for name in ("deepaas-style", "mm3-keywords")}
    swagger = build_swagger2(ROUTES, served, build_openapi3(ROUTES, served))
    OpenAPIV2SpecValidator(swagger).validate()
    post = swagger["paths"]["/v2/models/deepaas-style/predict/"]["post"]
    params = {p["name"]: p for p in post["parameters"]}
    assert params["image"]["type"] == "file" and params["image"]["in"] == "formData"
    assert params["image"]["description"] == "An image to classify"
    assert params["threshold"]["default"] == 0.5
    response = swagger["definitions"]["ModelPredictionResponse"]["properties"]
    assert response["label"] == {"type": "string", "description": "The predicted label"}


async def test_both_documents_are_served(client: Client) -> None:
    swagger = await (await client.get("/swagger.json")).json()
    openapi = await (await client.get("/openapi.json")).json()
    OpenAPIV2SpecValidator(swagger).validate()
    OpenAPIV30SpecValidator(openapi).validate()
    assert swagger["swagger"] == "2.0" and openapi["openapi"].startswith("3.0")
    # The same paths, but for the predict paths of models without predict (501, for
    # DEEPaaS clients only).
    not_predicting = {
        path.rstrip("/")
        for path, operations in swagger["paths"].items()
        if "200" not in operations.get("post", {}).get("responses", {"200": None})
    }
    assert not_predicting and all(p.endswith("/predict") for p in not_predicting)
    # The Open Inference Protocol's own paths are in the OpenAPI 3 document only.
    inference = {
        path
        for path, operations in openapi["paths"].items()
        if all(op["tags"] == ["inference"] for op in operations.values())
    }
    assert any(path.endswith("/infer") for path in inference)
    assert not any("inference" in op.get("tags", []) for op in _operations(swagger))
    assert (
        set(openapi["paths"]) - inference
        == {path.rstrip("/") or "/" for path in swagger["paths"]} - not_predicting
    )


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for operations in document["paths"].values() for op in operations.values()]


async def test_a_model_without_predict_served_alone(make_client: Any, models: Any) -> None:
    """DEEPaaS lists every model's predict path, answering 501 where there is no predict;
    the AI4OS UI (deepaas_ui) takes the first path ending in ``predict/`` and reads its
    ``parameters`` and ``produces``: with none, it fails (IndexError)."""
    client = await make_client(models={"metadata-only": models["metadata-only"]})
    swagger = await (await client.get("/swagger.json")).json()
    OpenAPIV2SpecValidator(swagger).validate()
    predict_paths = [path for path in swagger["paths"] if path.endswith("predict/")]
    assert predict_paths == ["/v2/models/metadata-only/predict/"]
    post = swagger["paths"][predict_paths[0]]["post"]
    assert post["parameters"] == [] and post["produces"] == ["application/json"]
    assert set(post["responses"]) >= {"501"} and "200" not in post["responses"]
    answer = await client.post(predict_paths[0])
    assert answer.status == 501


def test_models_that_predict_come_first(models: dict[str, ModelWrapper]) -> None:
    """A client that reads the first predict path (the AI4OS UI) finds one that predicts."""
    served = {"metadata-only": models["metadata-only"], "echo": models["echo"]}
    swagger = build_swagger2(ROUTES, served, build_openapi3(ROUTES, served))
    predict_paths = [path for path in swagger["paths"] if path.endswith("predict/")]
    assert predict_paths == ["/v2/models/echo/predict/", "/v2/models/metadata-only/predict/"]
