"""Builds the OpenAPI 3.0 document (``/openapi.json``) with apispec, from the routes.

Each route carries its ``Operation``, whose ``openapi3`` is one of the builders below;
paths with ``{model_id}`` are documented once per model, with that model's argument
schemas, media types and response schema. ``web/documents.py`` serves the result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema, fields, validate

from deepaas_lite import __version__
from deepaas_lite.http_errors import Meaning, by_status
from deepaas_lite.model import args as model_args
from deepaas_lite.model import values
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi import prediction_jobs
from deepaas_lite.openapi.operation import API_TAG, INFERENCE_TAG, RouteLike, placements
from deepaas_lite.openapi.schemas import COMPONENTS, ref

JSON = "application/json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
FORM_TYPES = (MULTIPART, URLENCODED, JSON)

Operation = dict[str, Any]


class _Builder:
    def __init__(self, title: str, serving: Mapping[str, ServingInfo] | None = None) -> None:
        self.serving = serving or {}
        self.plugin = MarshmallowPlugin()
        self.spec = APISpec(
            title=title,
            version=__version__,
            openapi_version="3.0.3",
            plugins=[self.plugin],
            info={
                "description": "Models served by deepaas-lite. Arguments may also be "
                "sent in the query string (repeat a key for a list). Only the documented "
                "arguments are read, wherever they are sent: any other key is a 422."
            },
        )
        converter = self.plugin.converter
        assert converter is not None  # set when APISpec initialises its plugins
        converter.add_attribute_function(_file_property)  # type: ignore[no-untyped-call]
        converter.add_attribute_function(_exclusive_bounds)  # type: ignore[no-untyped-call]
        self.converter: OpenAPIConverter = converter
        for name, schema in COMPONENTS.items():
            self.spec.components.schema(name, schema)

    def json_schema(self, schema: Schema) -> dict[str, Any]:
        return dict(self.converter.schema2jsonschema(schema))  # type: ignore[no-untyped-call]


def argument_schema(schema: Schema) -> tuple[dict[str, Any], dict[str, Any]]:
    """``schema`` converted as the document converts arguments, and the component
    schemas (by name) its ``$ref``s point to (those of nested schemas)."""
    builder = _Builder("arguments")
    body = builder.json_schema(schema)
    components: dict[str, Any] = builder.spec.to_dict().get("components", {}).get("schemas", {})
    return body, {name: value for name, value in components.items() if name not in COMPONENTS}


def _file_property(self: Any, field: fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
    """File arguments are binary strings in a multipart body."""
    if model_args.is_file_field(field):
        return {"type": "string", "format": "binary"}
    return {}


def _exclusive_bounds(
    self: Any, field: fields.Field[Any], ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """``Range(min_inclusive=False)`` (or max): the bound itself is refused (OpenAPI 3.0)."""
    out: dict[str, Any] = {}
    for validator in field.validators:
        if not isinstance(validator, validate.Range):
            continue
        if not validator.min_inclusive and _same(validator.min, ret.get("minimum")):
            out["exclusiveMinimum"] = True
        if not validator.max_inclusive and _same(validator.max, ret.get("maximum")):
            out["exclusiveMaximum"] = True
    return out


def _same(bound: Any, documented: Any) -> bool:
    return bound is not None and documented is not None and bound == documented


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error_responses(meanings: Mapping[int, Meaning]) -> dict[str, Any]:
    """The error responses, one a status (``http_errors.by_status``), with an example of
    the error shape and ``Retry-After`` where it is sent."""
    out: dict[str, Any] = {}
    for status, meaning in meanings.items():
        example: dict[str, Any] = {"code": status, "message": meaning.example}
        if status == 422:
            example["errors"] = {"data": ["Missing data for required field."]}
        response = _json(ref("Error"), meaning.description)
        response["content"][JSON]["example"] = example
        if meaning.retry_after:
            response["headers"] = {"Retry-After": _RETRY_AFTER}
        out[str(status)] = response
    return out


_RETRY_AFTER = {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}


def _request_body(builder: _Builder, schema: Schema) -> dict[str, Any] | None:
    body = builder.json_schema(schema)
    properties = body.get("properties", {})
    properties.pop(model_args.ACCEPT, None)
    if "required" in body:
        body["required"] = [r for r in body["required"] if r != model_args.ACCEPT]
        if not body["required"]:
            del body["required"]
    if not properties:
        return None
    body["additionalProperties"] = False  # unknown keys are 422, wherever they are sent
    objects = [
        model_args.data_key(name, field)
        for name, field in schema.fields.items()
        if values.is_object(field) and model_args.data_key(name, field) in properties
    ]
    if any(_is_binary(prop) for prop in properties.values()):
        media: tuple[str, ...] = (MULTIPART,)
    elif objects:
        media = (MULTIPART, JSON)  # urlencoded fields cannot carry an object
    else:
        media = FORM_TYPES
    content = {m: {"schema": body if m == JSON else _as_form(body)} for m in media}
    if objects:
        content[MULTIPART]["encoding"] = {key: {"contentType": JSON} for key in objects}
    lists = [
        key
        for key, prop in properties.items()
        if prop.get("type") == "array" and not _is_binary(prop) and key not in objects
    ]
    forms = set(content) & {MULTIPART, URLENCODED} if lists else set()
    for form in forms:  # a list is its repeated key (Swagger UI would join it with commas)
        encoding = content[form].setdefault("encoding", {})
        encoding.update({key: {"style": "form", "explode": True} for key in lists})
    return {"required": bool(body.get("required")), "content": content}


def _is_binary(prop: dict[str, Any]) -> bool:
    """A file, or a list of files."""
    return prop.get("format") == "binary" or prop.get("items", {}).get("format") == "binary"


def _as_form(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` as form fields carry it: a list is its repeated key, so an empty list
    cannot be told from a missing one, and a required list needs an item."""
    form = copy.deepcopy(body)
    for key in form.get("required", []):
        prop = form["properties"][key]
        if prop.get("type") == "array":
            prop["minItems"] = max(prop.get("minItems", 0), 1)
    for key, prop in form.get("properties", {}).items():
        # No files (Swagger UI would send the text "string", or "null" for a null
        # default: a form has no null, and sending no file gives the plugin its default).
        files = prop.get("items", {}).get("format") == "binary"
        if files and key not in form.get("required", []) and prop.get("default") is None:
            prop["default"] = []
    return form


_TAG_FACTS = ("version", "author", "license")


def _tag(model: ModelWrapper) -> dict[str, Any]:
    """A model's tag: its description, version, author and license, its url as docs."""
    meta = model.metadata()
    facts = [f"{name}: {meta[name]}" for name in _TAG_FACTS if meta.get(name)]
    lines = [str(meta.get("description") or ""), " · ".join(facts)]
    tag: dict[str, Any] = {"name": model.id, "description": "\n\n".join(filter(None, lines))}
    if meta.get("url"):
        tag["externalDocs"] = {"description": "Home page", "url": str(meta["url"])}
    return tag


def predict(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_predict:
        return None
    if model.response_schema is not None:
        output = builder.json_schema(model.response_schema)
    else:
        output = {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["OK"]},
                "predictions": {"description": "What the model predicted"},
            },
        }
    choices = model.accept_choices or [JSON]
    content = {
        media: {"schema": output if media == JSON else {"type": "string", "format": "binary"}}
        for media in choices
    }
    example = model.predict_example
    if example is not None and JSON in content:
        wrapped = {"status": "OK", "predictions": example}
        content[JSON]["example"] = example if model.response_schema is not None else wrapped
    operation: Operation = {
        "responses": {
            "200": {"description": "The prediction", "content": content},
        }
    }
    serving = builder.serving.get(model.id)
    if serving is not None and serving.describe():
        operation["description"] = serving.describe()
    if model.accept_choices:
        accept = model.predict_schema.fields[model_args.ACCEPT]
        operation["parameters"] = [
            {
                "name": model_args.ACCEPT,
                "in": "query",
                "required": False,
                "description": (model_args.description(accept) or "Media type of the answer")
                + f". Overrides the Accept header; without either, {choices[0]}.",
                # No default: a default would be sent always, overriding the Accept header
                # (in Swagger UI, the response's media type).
                "schema": {"type": "string", "enum": choices},
            }
        ]
    body = _request_body(builder, model.predict_schema)
    if body is not None:
        operation["requestBody"] = body
    return prediction_jobs.with_jobs(operation)


def train(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_train:
        return None
    operation: Operation = {
        "responses": {
            "200": _json(ref("Training"), "The training's record (see Location)"),
        }
    }
    body = _request_body(builder, model.train_schema)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _simple(schema: dict[str, Any], description: str) -> Callable[..., Operation]:
    def build(builder: _Builder, model: ModelWrapper | None = None) -> Operation:
        return {"responses": {"200": _json(schema, description)}}

    return build


def trainings(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_train:
        return None
    schema = {"type": "array", "items": ref("Training")}
    return {"responses": {"200": _json(schema, "Trainings, oldest first")}}


def training(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_train:
        return None
    return _simple(ref("Training"), "The training's record")(builder)


def cancel(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_train:
        return None
    return _simple(ref("Training"), "Cancelled, or removed when it had ended")(builder)


def log(builder: _Builder, model: ModelWrapper) -> Operation | None:
    if not model.can_train:
        return None
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "responses": {
            "200": {"description": "What the training printed", "content": text},
        }
    }


def metrics(builder: _Builder, model: ModelWrapper | None = None) -> Operation:
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {"responses": {"200": {"description": "Prometheus text format", "content": text}}}


_MODELS = {
    "type": "object",
    "properties": {"models": {"type": "array", "items": ref("Model")}},
}
_VERSIONS = {
    "type": "object",
    "properties": {
        "versions": {"type": "array", "items": ref("Version")},
        "links": {"type": "array", "items": ref("Link")},
    },
}
_STATUS = {"type": "object", "properties": {"status": {"type": "string"}}}

versions = _simple(_VERSIONS, "The API versions")
version = _simple(ref("Version"), "API version 2")
model_list = _simple(_MODELS, "The models")
model_info = _simple(ref("Model"), "The model")
live = _simple(_STATUS, "The server is up")
ready = _simple(_STATUS, "Every model is warmed and serving")

_PATH_PARAMETERS = {
    "uuid": {
        "name": "uuid",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "The training's uuid",
    },
}


@dataclass(frozen=True)
class ServingInfo:
    """How a model's predictions run, as the predict operation's description states it."""

    predict_workers: int = 0
    max_batch_size: int | None = None
    max_batch_delay: float | None = None

    def describe(self) -> str:
        parts = []
        if self.max_batch_size is not None and self.max_batch_delay is not None:
            parts.append(
                f"Concurrent requests are batched: max batch size {self.max_batch_size}, "
                f"max delay {self.max_batch_delay * 1000:g} ms."
            )
        if self.predict_workers:
            parts.append(f"Predictions run in {self.predict_workers} worker processes.")
        return " ".join(parts)


def build_openapi3(
    routes: Iterable[RouteLike],
    models: Mapping[str, ModelWrapper],
    base_path: str = "",
    title: str = "deepaas-lite",
    serving: Mapping[str, ServingInfo] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document for ``routes`` serving ``models``, as a plain dict.

    ``serving`` (by model id) adds the batching and worker settings to predict.
    """
    builder = _Builder(title, serving)
    for model in models.values():
        builder.spec.tag(_tag(model))
    builder.spec.tag(dict(API_TAG))
    routes = list(routes)
    if any(r.doc is not None and r.doc.tag == INFERENCE_TAG["name"] for r in routes):
        builder.spec.tag(dict(INFERENCE_TAG))
    paths: dict[str, dict[str, Operation]] = {}
    for place in placements(routes, models):
        operation = place.doc.openapi3(builder, place.model)
        if operation is None:
            continue
        place.label(operation, _error_responses(by_status(place.route.errors)))
        path = place.path
        params = [_PATH_PARAMETERS[name] for name in _PATH_PARAMETERS if f"{{{name}}}" in path]
        if params:
            operation["parameters"] = params + operation.get("parameters", [])
        paths.setdefault(base_path + (path or "/"), {})[place.route.method.lower()] = operation
    for path, operations in paths.items():
        builder.spec.path(path=path, operations=operations)
    return builder.spec.to_dict()
