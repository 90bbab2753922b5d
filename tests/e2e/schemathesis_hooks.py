"""schemathesis hooks for ``test_schemathesis.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

One hook, for one false positive of schemathesis 4: in a ``multipart/form-data`` body
every value is text, so some of its "schema-violating" mutations are, byte for byte, a
valid request. An array of strings mutated into the integer ``0`` is sent as one part
``0``, which is the one-item list ``["0"]``; the server rightly accepts it, and
schemathesis reports "Schema-violating request accepted".

The hook drops such a failure only after reading the body that was actually sent the
way OpenAPI's form serialization defines it (repeated parts make an array, a part of type
``application/json`` is JSON, a boolean is ``true``/``false``) and finding it valid
against the operation's schema. Every other failure, and this one whenever the bytes
sent are really invalid, is kept; schemathesis prints how many it dropped.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import re
from typing import Any

import jsonschema
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData

MULTIPART = "multipart/form-data"
_INTEGER = re.compile(r"-?\d+")


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if not isinstance(failure, AcceptedNegativeData) or case.media_type != MULTIPART:
        return True
    request = response.request
    parts = _parts(request.headers.get("Content-Type", ""), request.body)
    if parts is None:
        return True
    root = case.operation.schema.raw_schema
    body = case.operation.definition.raw["requestBody"]["content"][MULTIPART]["schema"]
    schema = _resolve(body, root)
    instance = _read(parts, schema)
    if instance is None or not jsonschema.Draft4Validator(schema).is_valid(instance):
        return True
    _note(f"{case.operation.label}: sent {json.dumps(instance)}, which is valid")
    return False


def _note(line: str) -> None:
    """Say what was dropped, in the file named by ``DEEPAAS_ST_DROPPED`` (the test prints it)."""
    path = os.environ.get("DEEPAAS_ST_DROPPED")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


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
