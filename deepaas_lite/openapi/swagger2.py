"""The Swagger 2.0 document at ``/swagger.json``, shaped like DEEPaaS's, for its clients.

DEEPaaS clients (the AI4OS Gradio UI, scripts) read ``/swagger.json`` as DEEPaaS's
aiohttp-apispec wrote it: paths ending in ``/`` (``.../predict/``), every argument a
``parameters`` entry (``in: query``, files ``in: formData`` with ``type: file``, the
``accept`` choice as a header), ``produces`` listing the predict media types and the
models' output schemas under ``definitions`` (the first predicting model's as
``ModelPredictionResponse``), and a predict path for every model (one that only answers
501 for a model without ``predict``, listed last). It is built from the same route
definitions and argument schemas as the OpenAPI 3 document (``openapi3.py``), with
apispec's Swagger 2.0 converter. ``web/documents.py`` serves the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema, fields

from deepaas_lite import __version__
from deepaas_lite.http_errors import Meaning, by_status
from deepaas_lite.model import args as model_args
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi import prediction_jobs
from deepaas_lite.openapi.operation import API_TAG, RouteLike, placements
from deepaas_lite.openapi.schemas import COMPONENTS

JSON = "application/json"
RESPONSE = "ModelPredictionResponse"
"""The definition DEEPaaS gives a model's output schema (read by the Gradio UI)."""

_V3_REFS = "#/components/schemas/"
_DEFINITIONS = "#/definitions/"

# What a non-body Swagger 2.0 parameter may carry besides name, in and required.
_PARAMETER_KEYS = frozenset(
    {
        "description",
        "type",
        "format",
        "items",
        "default",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "enum",
        "multipleOf",
    }
)
_PRIMITIVES = frozenset({"string", "number", "integer", "boolean"})

Operation = dict[str, Any]


def _v2_refs(value: Any) -> Any:
    """A schema with its OpenAPI 3 ``$ref``s pointing into ``definitions``."""
    if isinstance(value, dict):
        out = {key: _v2_refs(item) for key, item in value.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(_V3_REFS):
            out["$ref"] = _DEFINITIONS + ref[len(_V3_REFS) :]
        return out
    if isinstance(value, list):
        return [_v2_refs(item) for item in value]
    return value


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _DEFINITIONS + name}


def _error_responses(meanings: Mapping[int, Meaning]) -> dict[str, Any]:
    """The error responses, one a status (``http_errors.by_status``)."""
    out: dict[str, Any] = {}
    for status, meaning in meanings.items():
        response: dict[str, Any] = {"description": meaning.description, "schema": _ref("Error")}
        if meaning.retry_after:
            response["headers"] = {"Retry-After": _RETRY_AFTER}
        out[str(status)] = response
    return out


_RETRY_AFTER = {"type": "integer", "minimum": 0, "description": "Seconds to wait"}


def _structured(field: fields.Field[Any]) -> bool:
    """Fields that have no Swagger 2.0 parameter type (objects): sent as JSON text."""
    if isinstance(field, fields.List):
        return _structured(field.inner)
    return isinstance(field, fields.Nested | fields.Pluck | fields.Dict | fields.Mapping)


class _Builder:
    def __init__(self, title: str) -> None:
        self.plugin = MarshmallowPlugin()
        self.spec = APISpec(
            title=title,
            version=__version__,
            openapi_version="2.0",
            plugins=[self.plugin],
            info={
                "description": "Models served by deepaas-lite (Swagger 2.0, for DEEPaaS "
                "clients; the OpenAPI 3 document is at openapi.json)."
            },
        )
        converter = self.plugin.converter
        assert converter is not None  # set when APISpec initialises its plugins
        self.converter: OpenAPIConverter = converter
        for name, schema in COMPONENTS.items():
            self.spec.components.schema(name, _v2_refs(schema))
        self.response_named = False
        self.not_implemented: set[int] = set()  # ids of operations that only answer 501

    def unimplemented(self, what: str) -> Operation:
        """An operation the model lacks, listed as DEEPaaS lists it: no arguments, 501."""
        operation: Operation = {
            "description": f"This model does not implement {what}: the answer is 501.",
            "parameters": [],
            "produces": [JSON],
            "responses": {},
        }
        self.not_implemented.add(id(operation))
        return operation

    def parameter(self, name: str, field: fields.Field[Any]) -> dict[str, Any]:
        """One argument as a query parameter (a file: a formData parameter)."""
        description = model_args.description(field)
        common: dict[str, Any] = {"name": name, "required": bool(field.required)}
        if model_args.is_file_field(field):
            out = {**common, "in": "formData", "type": "file"}
        elif _structured(field):
            text = f"{description} (JSON)" if description else "JSON"
            out = {**common, "in": "query", "type": "string", "description": text}
        else:
            prop = self.converter.field2property(field)  # type: ignore[no-untyped-call]
            out = {"in": "query", **common}
            out.update({k: v for k, v in prop.items() if k in _PARAMETER_KEYS})
            out["type"] = out.get("type") if out.get("type") in _PRIMITIVES | {"array"} else None
            if out["type"] is None:
                out["type"] = "string"
                out.pop("format", None)
            if out["type"] == "array":
                items = out.get("items") or {}
                if items.get("type") not in _PRIMITIVES:
                    out["items"] = {"type": "string"}
                out["collectionFormat"] = "multi"
            if out.get("default", "") is None:  # Swagger 2.0 parameters are not nullable
                del out["default"]
        if description:
            out.setdefault("description", description)
        return out

    def parameters(self, schema: Schema) -> list[dict[str, Any]]:
        """Every argument but ``accept`` (the caller adds it as a header, last)."""
        out = []
        for name, field in schema.fields.items():
            if field.dump_only or name == model_args.ACCEPT:
                continue
            out.append(self.parameter(model_args.data_key(name, field), field))
        return out

    def response_schema(self, model: ModelWrapper) -> dict[str, Any]:
        """The predict output's schema: a definition when the model declares one."""
        if model.response_schema is None:
            return {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["OK"]},
                    "predictions": {"description": "What the model predicted"},
                },
            }
        if not self.response_named:
            name = RESPONSE
            self.response_named = True
        else:
            name = f"{RESPONSE}-{re.sub(r'[^A-Za-z0-9_.-]', '_', model.id)}"
        body = self.converter.schema2jsonschema(model.response_schema)  # type: ignore[no-untyped-call]
        self.spec.components.schema(name, dict(body))
        return _ref(name)


def _with_arguments(builder: _Builder, schema: Schema, operation: Operation) -> Operation:
    parameters = builder.parameters(schema)
    if parameters:
        operation["parameters"] = parameters
    if any(p["in"] == "formData" for p in parameters):
        operation["consumes"] = ["multipart/form-data"]
    return operation


def predict(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_predict:
        # DEEPaaS clients read a predict path (the AI4OS UI takes the first one).
        return builder.unimplemented("predict")
    choices = model.accept_choices or [JSON]
    ok = {"description": "The prediction", "schema": builder.response_schema(model)}
    operation = _with_arguments(
        builder, model.predict_schema, {"produces": choices, "responses": {"200": ok}}
    )
    if model.accept_choices:
        accept = model.predict_schema.fields[model_args.ACCEPT]
        operation.setdefault("parameters", []).append(
            {
                "name": model_args.ACCEPT,
                "in": "header",
                "required": False,
                "type": "string",
                "enum": choices,
                # No default: a client that fills in defaults would send it always,
                # overriding its own Accept choice (the OpenAPI 3 document has none either).
                "description": model_args.description(accept)
                or "Media type of the answer (also ?accept=)",
            }
        )
    return prediction_jobs.with_jobs_swagger2(operation)


def train(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_train:
        return None
    ok = {"description": "The training's record (see Location)", "schema": _ref("Training")}
    return _with_arguments(
        builder,
        model.train_schema,
        {"produces": [JSON], "responses": {"200": ok}},
    )


def _from_v3(operation: Mapping[str, Any]) -> Operation:
    """An OpenAPI 3 operation without a body, in Swagger 2.0 terms (no parameters:
    the only path parameter, ``uuid``, is added by the caller)."""
    responses: dict[str, Any] = {}
    produces: list[str] = []
    for code, response in operation.get("responses", {}).items():
        out = {"description": response.get("description", "")}
        for media, content in response.get("content", {}).items():
            if media not in produces:
                produces.append(media)
            if "schema" in content and "schema" not in out:
                out["schema"] = _v2_refs(content["schema"])
        responses[code] = out
    converted: Operation = {"responses": responses}
    if produces:
        converted["produces"] = produces
    return converted


_UUID = {
    "name": "uuid",
    "in": "path",
    "required": True,
    "type": "string",
    "description": "The training's uuid",
}


def build_swagger2(
    routes: Iterable[RouteLike],
    models: Mapping[str, ModelWrapper],
    openapi: Mapping[str, Any],
    base_path: str = "",
    title: str = "deepaas-lite",
) -> dict[str, Any]:
    """The Swagger 2.0 document for ``routes`` serving ``models``, as a plain dict.

    Predict and train are built from the argument schemas; the other operations are
    converted from ``openapi``, the OpenAPI 3 document of the same routes. Every path
    ends in ``/``, as DEEPaaS's do (deepaas-lite answers both spellings).
    """
    builder = _Builder(title)
    for model in models.values():
        meta = model.metadata()
        builder.spec.tag({"name": model.id, "description": str(meta.get("description") or "")})
    builder.spec.tag(dict(API_TAG))
    paths: dict[str, dict[str, Operation]] = {}
    for place in placements(routes, models):
        if not place.doc.deepaas:
            continue  # DEEPaaS clients read this document: only DEEPaaS's routes
        path, method = place.path, place.route.method.lower()
        if place.doc.swagger2 is not None and place.model is not None:
            operation = place.doc.swagger2(builder, place.model)
        else:
            v3 = openapi["paths"].get(base_path + (path or "/"), {}).get(method)
            operation = None if v3 is None else _from_v3(v3)
        if operation is None:
            continue
        errors = by_status(place.route.errors)
        if id(operation) in builder.not_implemented:
            errors = {status: m for status, m in errors.items() if status == 501}
        place.label(operation, _error_responses(errors))
        if "{uuid}" in path:
            operation["parameters"] = [_UUID, *operation.get("parameters", [])]
        paths.setdefault(base_path + path + "/", {})[method] = operation
    # Paths that only answer 501 come last: a client reading the first predict path
    # finds one that predicts.
    for path, operations in sorted(
        paths.items(),
        key=lambda item: all(id(op) in builder.not_implemented for op in item[1].values()),
    ):
        builder.spec.path(path=path, operations=operations)
    return builder.spec.to_dict()
