"""A model's arguments as a JSON Schema (2020-12), for ``deepaas-cli schema``.

The conversion is the OpenAPI document's (``openapi3.argument_schema``); this module only
turns its OpenAPI 3.0 dialect into plain JSON Schema: ``$ref``s into ``$defs``,
``nullable`` into a ``"null"`` type, ``example`` into ``examples``, boolean
``exclusiveMinimum``/``exclusiveMaximum`` into the bound itself, and file arguments
into the paths that ``deepaas-cli --input-json`` reads them from.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from deepaas_lite.openapi.openapi3 import argument_schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_COMPONENTS = "#/components/schemas/"


def arguments_json_schema(schema: Schema) -> dict[str, Any]:
    """The JSON Schema of an object of ``schema``'s arguments (files as paths)."""
    body, components = argument_schema(schema)
    out: dict[str, Any] = {"$schema": DIALECT, **_convert(body)}
    if components:
        out["$defs"] = {name: _convert(value) for name, value in components.items()}
    return out


_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMAS = ("items", "additionalProperties", "not")


def _convert(schema: dict[str, Any]) -> dict[str, Any]:
    """One schema object, and the schemas inside it (by keyword, never by name)."""
    out = dict(schema)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _convert(value) for name, value in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_convert(value) for value in out[key]]
    for key in _SCHEMAS:
        if isinstance(out.get(key), dict):
            out[key] = _convert(out[key])
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(_COMPONENTS):
        out["$ref"] = "#/$defs/" + ref[len(_COMPONENTS) :]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(exclusive) is True and bound in out:  # OpenAPI 3.0's boolean form
            out[exclusive] = out.pop(bound)
        elif out.get(exclusive) is False:
            del out[exclusive]
    if "example" in out:
        out["examples"] = [out.pop("example")]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        # OpenAPI 3.0: a flag on the bound; a false flag is dropped with no other change.
        if isinstance(out.get(exclusive), bool) and out.pop(exclusive) and bound in out:
            out[exclusive] = out.pop(bound)
    if out.get("type") == "string" and out.get("format") == "binary":
        del out["format"]
        described = out.get("description")
        out["description"] = f"{described} (a file's path)" if described else "A file's path"
    return out
