"""The Open Inference Protocol's operations in the OpenAPI 3 document, tagged ``inference``.

Each model's infer operation documents its inputs (name, datatype, shape and the
JSON of its elements, from the argument schemas, as ``model/inference.py`` reads
them) and its outputs when they are known before a call. What JSON Schema cannot
say is in the text: the elements match the shape, every required input is sent
(``x-required-inputs`` names them), an input is sent once, and a leading batch
dimension makes one call per row. None of these is in the DEEPaaS-shaped
Swagger 2.0 document.
"""

from __future__ import annotations

from typing import Any

from deepaas_lite.model.inference import Signature
from deepaas_lite.model.tensors import Kind, TensorSpec
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi.operation import INFERENCE_TAG, Build, Operation
from deepaas_lite.openapi.prediction_jobs import with_jobs
from deepaas_lite.openapi.schemas import ref

TAG = INFERENCE_TAG["name"]
JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
_OBJECT = {"type": "object", "additionalProperties": {}}
_SIZES: dict[str, Any] = {"type": "array", "items": {"type": "integer", "minimum": 0}}

_TENSOR = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {
        "name": {"type": "string"},
        "datatype": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": -1}},
    },
}
_V2_MODEL = {
    "type": "object",
    "required": ["name", "platform", "inputs", "outputs"],
    "properties": {
        "name": {"type": "string", "description": "The model's id"},
        "versions": {"type": "array", "items": {"type": "string"}},
        "platform": {"type": "string"},
        "inputs": {"type": "array", "items": _TENSOR},
        "outputs": {"type": "array", "items": _TENSOR},
    },
}
_SERVER = {
    "type": "object",
    "required": ["name", "version", "extensions"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string", "description": "The server's version"},
        "extensions": {"type": "array", "items": {"type": "string"}},
    },
}
_RESPONSE = {
    "type": "object",
    "required": ["model_name", "outputs"],
    "properties": {
        "model_name": {"type": "string"},
        "model_version": {"type": "string"},
        "id": {"type": "string"},
        "parameters": _OBJECT,
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "datatype", "shape"],
                "properties": {
                    "name": {"type": "string"},
                    "datatype": {"type": "string"},
                    "shape": _SIZES,
                    "parameters": _OBJECT,
                    "data": {"type": "array", "items": {}},
                },
            },
        },
    },
}
_READY = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}},
}


def operation(name: str, summary: str, build: Build) -> Operation:
    """An operation of the protocol: tagged ``inference``, not in ``/swagger.json``."""
    return Operation(name, summary, build, tag=TAG, deepaas=False)


def versioned(build: Build) -> Build:
    """``build`` for a path under ``/versions/{version}``: its parameter shows the
    plugin's own version as its example (the model store's current one answers too)."""

    def build_versioned(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
        operation = build(builder, model)
        if operation is None:
            return None
        version = Signature.of(model).version
        schema: dict[str, Any] = {"type": "string"}
        if version is not None:
            schema["example"] = version
        parameter = {
            "name": "version",
            "in": "path",
            "required": True,
            "schema": schema,
            "description": "The version the model serves: the plugin's own, or the model "
            "store's current one (a training's uuid); any other is a 404",
        }
        operation["parameters"] = [parameter, *operation.get("parameters", [])]
        return operation

    return build_versioned


def _ok(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "responses": {"200": {"description": description, "content": {JSON: {"schema": schema}}}}
    }


def server(builder: Any, model: ModelWrapper | None = None) -> dict[str, Any]:
    return _ok({"allOf": [ref("Version"), _SERVER]}, "API version 2, with the server metadata")


def model_metadata(builder: Any, model: ModelWrapper) -> dict[str, Any]:
    operation = _ok(
        {"allOf": [ref("Model"), _V2_MODEL]},
        "The model's description with its V2 metadata (`name` is the model's id)",
    )
    operation["description"] = _tensors_text(Signature.of(model))
    return operation


def model_ready(builder: Any, model: ModelWrapper) -> dict[str, Any]:
    return _ok(_READY, "The model serves (503 while it does not)")


def infer(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_predict:
        return None
    signature = Signature.of(model)
    inputs: dict[str, Any] = {
        "type": "array",
        "items": {"oneOf": [_input(builder, model, spec) for spec in signature.inputs]},
        "x-required-inputs": [spec.name for spec in signature.inputs if spec.required],
    }
    if not signature.inputs:  # (items of a plain type: arbitrary JSON is slow to draw)
        inputs = {"type": "array", "maxItems": 0, "items": {"type": "object"}}
    asked: dict[str, Any] = {
        "type": "object",
        "required": ["name"],
        "properties": {},
        "additionalProperties": False,
    }
    names = [spec.name for spec in signature.outputs or ()]
    asked["properties"]["name"] = {"type": "string", "enum": names} if names else {"type": "string"}
    asked["properties"]["parameters"] = _OBJECT
    outputs: dict[str, Any] = {"type": "array", "items": asked}
    if not names:
        outputs["maxItems"] = 0
    request = {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": _OBJECT,
            "inputs": inputs,
            "outputs": outputs,
        },
        "additionalProperties": False,
    }
    binary = {"type": "string", "format": "binary"}
    operation = {
        "description": _tensors_text(signature) + _RULES + _JOBS,
        "requestBody": {"required": True, "content": {JSON: {"schema": request}}},
        "responses": {
            "200": {
                "description": "The output tensors (binary ones after the JSON, "
                "`Inference-Header-Content-Length` bytes long)",
                "content": {JSON: {"schema": _RESPONSE}, OCTET_STREAM: {"schema": binary}},
            }
        },
    }
    return with_jobs(operation)


_RULES = (
    "\n\nSend every required input once; `data` holds as many elements as `shape` says, "
    "flat or nested as the shape. A leading batch dimension (`[n, ...]`, n at least 1, the "
    "same on every input) makes one call per row, answered with a leading `n` on every "
    "output. The binary data extension (`binary_data_size`, `binary_data`, "
    "`binary_data_output`) is understood."
)
_JOBS = (
    "\n\nWith `Prefer: respond-async` the request is read and checked now (a 400 stores "
    "nothing), then answered `202` with the job's record: its output "
    "(`GET .../predictions/{uuid}/output`, and the record's `result.output`) is this "
    "answer as JSON, every output's `data` included (binary data is not used there)."
)


def _input(builder: Any, model: ModelWrapper, spec: TensorSpec) -> dict[str, Any]:
    """One input's ``$request_input``: its shape, or a batch's (``[n, ...]``); its data
    as documented for one row (a batch's data is longer than ``maxItems`` says)."""
    field = next(
        f for n, f in model.predict_schema.fields.items() if (f.data_key or n) == spec.name
    )
    prop = dict(builder.converter.field2property(field))
    element = dict(prop.get("items", {})) if spec.many else prop
    element = _element(spec, element)
    data: dict[str, Any] = {"type": "array", "items": element}
    length = spec.shape[0]
    if length >= 0:
        data.update(minItems=length, maxItems=length)
        shape: dict[str, Any] = {**_SIZES, "items": {"type": "integer", "enum": [length]}}
    else:
        data.update({k: prop[k] for k in ("minItems", "maxItems") if k in prop})
        shape = {**_SIZES, "items": {"type": "integer", "minimum": 0}}
        if "maxItems" in prop:
            shape["items"]["maximum"] = prop["maxItems"]
    shape.update(minItems=1, maxItems=2)  # a second dimension: a batch, rows first
    return {
        "type": "object",
        "required": ["name", "datatype", "shape", "data"],
        "description": spec.description,
        "properties": {
            "name": {"type": "string", "enum": [spec.name]},
            "datatype": {"type": "string", "enum": [spec.datatype]},
            "shape": shape,
            "data": data,
            "parameters": _FILE_PARAMETERS if spec.kind is Kind.FILE else _OBJECT,
        },
        "additionalProperties": False,
    }


_FILE_PARAMETERS = {
    "type": "object",
    "properties": {
        "content_type": {"type": "string", "description": "The file's media type"},
        "filename": {"type": "string", "description": "The file's name"},
    },
}


def _element(spec: TensorSpec, prop: dict[str, Any]) -> dict[str, Any]:
    """The JSON of one element: a number, a bool, a string (a file's text), a JSON value."""
    prop.pop("nullable", None)
    prop.pop("default", None)
    if spec.kind is Kind.FILE:
        return {"type": "string", "description": "The file's content, as text"}
    return prop


def _tensors_text(signature: Signature) -> str:
    """The model's tensors as a Markdown table."""
    rows = ["| tensor | name | datatype | shape |", "| --- | --- | --- | --- |"]
    rows += [_row("input", spec) for spec in signature.inputs]
    if signature.outputs is None:
        rows.append("| output | (from each call's output) | | |")
    rows += [_row("output", spec) for spec in signature.outputs or ()]
    return "\n".join(rows)


def _row(what: str, spec: TensorSpec) -> str:
    required = " (required)" if spec.required and what == "input" else ""
    return f"| {what} | `{spec.name}`{required} | {spec.datatype} | {list(spec.shape)} |"
