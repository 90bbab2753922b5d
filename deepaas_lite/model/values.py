"""Argument values as each location carries them, checked before marshmallow loads them.

marshmallow is lenient where the OpenAPI document is not: it turns ``2.5`` into the
integer ``2``, ``1`` into ``True`` and ``"5"`` into the number ``5``. So:

- a JSON body must use JSON's own types: ``true``/``false`` for a boolean, a number for
  a number, an integral number for an integer (``2.0`` is ``2``; ``2.5`` is not);
- a query string or form carries text: a boolean is ``true`` or ``false`` (any case, as
  the document's ``boolean`` reads in a form; not ``1``, ``yes`` or ``on``), and an
  object argument (``Nested`` or ``Dict``) is JSON text.

What marshmallow checks anyway (strings, lists, ranges...) is left to it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from deepaas_lite.model.args import data_key

TRUE_TEXT = "true"
FALSE_TEXT = "false"

Errors = dict[str, Any]


def _invalid(field: fields.Field[Any]) -> list[str]:
    return [str(field.error_messages["invalid"])]


def _json_value(field: fields.Field[Any], value: Any) -> Any:
    """The errors of one JSON value (None when it is fine or for marshmallow to judge)."""
    if value is None:
        return None
    if isinstance(field, fields.Boolean):
        return None if isinstance(value, bool) else _invalid(field)
    if isinstance(field, fields.Number):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _invalid(field)
        if isinstance(field, fields.Integer) and isinstance(value, float):
            return None if value.is_integer() else _invalid(field)
        return None
    if isinstance(field, fields.List) and isinstance(value, list):
        length = _length_error(field, value)
        if length:  # said before any item is looked at: a list far too long costs nothing
            return length
        items = {str(i): _json_value(field.inner, item) for i, item in enumerate(value)}
        return {i: e for i, e in items.items() if e} or None
    if isinstance(field, fields.Dict) and isinstance(value, dict) and field.value_field:
        inner = field.value_field
        entries = {str(k): _json_value(inner, v) for k, v in value.items()}
        return {k: {"value": e} for k, e in entries.items() if e} or None
    if isinstance(field, fields.Nested) and not isinstance(field, fields.Pluck):
        nested = field.schema
        if field.many and isinstance(value, list):
            items = {str(i): json_errors(nested, item) for i, item in enumerate(value)}
            return {i: e for i, e in items.items() if e} or None
        if not field.many and isinstance(value, dict):
            return json_errors(nested, value) or None
    return None


def _length_error(field: fields.List[Any], value: list[Any]) -> list[str] | None:
    """The messages of the list's ``Length`` validators that ``value`` fails."""
    messages: list[str] = []
    for check in field.validators:
        if isinstance(check, validate.Length):
            try:
                check(value)
            except ValidationError as exc:
                messages.extend(str(message) for message in exc.messages)
    return messages or None


def json_errors(schema: Schema, data: Any) -> Errors:
    """What in a JSON object breaks JSON's types for ``schema``, by key."""
    if not isinstance(data, Mapping):
        return {}
    errors: Errors = {}
    for name, field in schema.fields.items():
        key = data_key(name, field)
        if key in data:
            error = _json_value(field, data[key])
            if error:
                errors[key] = error
    return errors


def _is_object(field: fields.Field[Any]) -> bool:
    return isinstance(field, fields.Dict | fields.Nested) and not isinstance(field, fields.Pluck)


def is_object(field: fields.Field[Any]) -> bool:
    """An argument that a query string or form carries as JSON text (or a list of them)."""
    return _is_object(field.inner if isinstance(field, fields.List) else field)


def _text_value(field: fields.Field[Any], value: Any) -> tuple[Any, Any]:
    """One text value read for ``field``: (the value, its errors or None)."""
    if not isinstance(value, str):
        return value, None
    if isinstance(field, fields.Boolean):
        text = value.lower()
        if text == TRUE_TEXT:
            return True, None
        if text == FALSE_TEXT:
            return False, None
        return value, _invalid(field)
    if _is_object(field):
        try:
            read = json.loads(value)
        except ValueError:
            return value, ["Not valid JSON: send an object argument as JSON text."]
        return read, _json_value(field, read)
    return value, None


@functools.cache
def _fields_by_key(schema: Schema) -> dict[str, fields.Field[Any]]:
    """A schema's fields by the key clients send them under (worked out once)."""
    return {data_key(name, field): field for name, field in schema.fields.items()}


def keys_of(schema: Schema) -> frozenset[str]:
    """The keys clients send a schema's arguments under."""
    return frozenset(_fields_by_key(schema))


def from_text(schema: Schema, data: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
    """``data`` from a query string or form, with booleans and objects read from text."""
    by_key = _fields_by_key(schema)
    out: dict[str, Any] = {}
    errors: Errors = {}
    for key, value in data.items():
        field = by_key.get(key)
        if field is None:
            out[key] = value
        elif isinstance(field, fields.List) and isinstance(value, list):
            read = [_text_value(field.inner, item) for item in value]
            out[key] = [item for item, _ in read]
            item_errors = {str(i): e for i, (_, e) in enumerate(read) if e}
            if item_errors:
                errors[key] = item_errors
        else:
            out[key], error = _text_value(field, value)
            if error:
                errors[key] = error
    return out, errors
