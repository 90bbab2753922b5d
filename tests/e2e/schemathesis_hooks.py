"""schemathesis hooks for ``test_schemathesis.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

One hook, ``filter_failure``, for three reports that are not the server's fault; each is
dropped only after checking that it is that case, and written to the file named by
``DEEPAAS_ST_DROPPED`` (the test prints it; schemathesis prints how many it dropped).

1. The contract (docs/operators.md, "Trainings"): DELETE of a pending or running
   training cancels it and *keeps* its record, as ``cancelled``. schemathesis's stateful
   ``use_after_free`` expects a 404 after any successful DELETE; its report is dropped
   when the record read back is ``cancelled``. A finished training that DELETE removed
   must be 404: that stays a failure.

2. In a form body (multipart or urlencoded) every value is text, so some of
   schemathesis 4's "schema-violating" mutations are, byte for byte, a valid request: an
   array of strings mutated into the integer ``0`` is sent as one part ``0``, which is
   the one-item list ``["0"]``; the server rightly accepts it. Such a report is dropped
   only when the body actually sent, read the way OpenAPI's form serialization defines
   it (repeated parts make an array, a part of type ``application/json`` is JSON, a
   boolean is ``true``/``false``), is valid against the operation's schema.

3. An inference request (Open Inference Protocol) valid against its schema can still
   break the protocol's rules that JSON Schema cannot state: ``data`` holding as many
   elements as ``shape`` says, every required input sent, no input sent twice, every
   input of a batch carrying the same batch dimension, of at least one row (the
   operation's description says them). schemathesis's ``positive_data_acceptance``
   report of its 400 is dropped only when the body sent breaks one of them.

Every other failure is kept.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import math
import os
import re
import urllib.parse
import urllib.request
from typing import Any

import jsonschema
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData, UseAfterFree

MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
_INTEGER = re.compile(r"-?\d+")


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if isinstance(failure, UseAfterFree):
        return _keep_use_after_free(failure, response)
    if isinstance(failure, RejectedPositiveData) and case.path.endswith("/infer"):
        return _keep_rejected_inference(case, response)
    if not isinstance(failure, AcceptedNegativeData) or case.media_type not in (
        MULTIPART,
        URLENCODED,
    ):
        return True
    request = response.request
    if case.media_type == URLENCODED:
        parts = _fields(request.body)
    else:
        parts = _parts(request.headers.get("Content-Type", ""), request.body)
    if parts is None:
        return True
    root = case.operation.schema.raw_schema
    body = case.operation.definition.raw["requestBody"]["content"][case.media_type]["schema"]
    schema = _resolve(body, root)
    instance = _read(parts, schema)
    if instance is None or not jsonschema.Draft4Validator(schema).is_valid(instance):
        return True
    _note(f"{case.operation.label}: sent {json.dumps(instance)}, which is valid")
    return False


def _keep_use_after_free(failure: Any, response: Any) -> bool:
    """Keep it unless the DELETE cancelled the training, whose record says ``cancelled``."""
    method, _, path = failure.free.partition(" ")
    if method != "DELETE" or "/train/" not in path:
        return True
    parts = urllib.parse.urlsplit(response.request.url)
    try:
        with urllib.request.urlopen(f"{parts.scheme}://{parts.netloc}{path}", timeout=30) as got:
            record = json.loads(got.read())
    except (OSError, ValueError):
        return True
    if record.get("status") != "cancelled":
        return True
    _note(f"{failure.usage} after {failure.free}: the training was cancelled and its record kept")
    return False


def _keep_rejected_inference(case: Any, response: Any) -> bool:
    """Keep it unless the request broke a rule of the protocol that JSON Schema cannot
    state, and the operation's description does: an input's ``data`` holds as many
    elements as its ``shape`` says, every required input is sent (the schema's
    ``x-required-inputs``), no input is sent twice, and a batch's inputs all carry
    its batch dimension."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        return True
    schema = case.operation.definition.raw["requestBody"]["content"]["application/json"]
    required = schema["schema"]["properties"]["inputs"].get("x-required-inputs", [])
    names = [item.get("name") for item in body["inputs"] if isinstance(item, dict)]
    broken = []
    if len(set(names)) != len(names):
        broken.append("an input sent twice")
    missing = [name for name in required if name not in names]
    if missing:
        broken.append(f"required inputs missing: {missing}")
    batches = set()
    for item in body["inputs"]:
        shape, data = item.get("shape"), item.get("data")
        if isinstance(shape, list) and isinstance(data, list) and math.prod(shape) != len(data):
            broken.append(f"{item.get('name')}: shape {shape}, {len(data)} elements")
        if isinstance(shape, list):
            batches.add(shape[0] if len(shape) == 2 else None)
            if len(shape) == 2 and shape[0] == 0:
                broken.append(f"{item.get('name')}: a batch of no rows, shape {shape}")
    if len(batches) > 1 and batches - {None, 1}:
        broken.append(f"inputs of different batch sizes {sorted(map(str, batches))}")
    if not broken:
        return True
    _note(f"{case.operation.label}: answered {response.status_code}, for " + "; ".join(broken))
    return False


def _note(line: str) -> None:
    """Say what was dropped, in the file named by ``DEEPAAS_ST_DROPPED`` (the test prints it)."""
    path = os.environ.get("DEEPAAS_ST_DROPPED")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def _fields(body: Any) -> list[tuple[str, str | None, bytes]] | None:
    """(name, None, value) of each field of an urlencoded body, as sent."""
    if isinstance(body, bytes):
        body = body.decode("ascii", "replace")
    if not isinstance(body, str):
        return None
    pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
    return [(name, None, value.encode()) for name, value in pairs]


def _parts(content_type: str, body: Any) -> list[tuple[str, str | None, bytes]] | None:
    """(name, the part's Content-Type, content) of each part, as sent."""
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes):
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return None
    out = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            return None
        kind = part.get_content_type() if part.get("Content-Type") else None
        out.append((name, kind, part.get_payload(decode=True) or b""))
    return out


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its local ``$ref``s (and ``allOf`` of one) replaced by their target."""
    if "$ref" in schema:
        target: Any = root
        for step in schema["$ref"].lstrip("#/").split("/"):
            target = target[step]
        return _resolve(target, root)
    out = {key: value for key, value in schema.items()}
    if list(out.get("allOf", [])) and len(out["allOf"]) == 1:
        out = {**_resolve(out.pop("allOf")[0], root), **out}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _resolve(v, root) for k, v in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _resolve(out[key], root)
    return out


def _read(
    parts: list[tuple[str, str | None, bytes]], schema: dict[str, Any]
) -> dict[str, Any] | None:
    """The body as the document says a form carries it; None when a part cannot be read."""
    properties = schema.get("properties", {})
    by_name: dict[str, list[tuple[str | None, bytes]]] = {}
    for name, kind, content in parts:
        by_name.setdefault(name, []).append((kind, content))
    out: dict[str, Any] = {}
    for name, values in by_name.items():
        prop = properties.get(name, {})
        try:
            if prop.get("type") == "array":
                out[name] = [_value(prop.get("items", {}), k, c) for k, c in values]
            elif len(values) == 1:
                out[name] = _value(prop, *values[0])
            else:
                return None
        except ValueError:
            return None
    return out


def _value(schema: dict[str, Any], kind: str | None, content: bytes) -> Any:
    if schema.get("format") == "binary":
        return "<file>"
    text = content.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if kind == "application/json" or schema.get("type") == "object":
        return json.loads(text)
    declared = schema.get("type")
    if declared == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if declared == "number":
        return float(text)
    if declared == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text
