"""Argument schemas: whatever a plugin returns, one marshmallow ``Schema`` out.

Plugins may give a dict of fields, a ``Schema`` class or an instance. Field metadata is
read from ``field.metadata``, which holds both marshmallow 4 ``metadata={...}`` and the
marshmallow 3 keyword metadata (``description="..."``, ``type="file"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

ACCEPT = "accept"


def to_schema(value: Any) -> Schema:
    """Return a ``Schema`` instance for a dict of fields, a Schema class or instance."""
    if value is None:
        return Schema.from_dict({})(unknown=EXCLUDE)
    if isinstance(value, Schema):
        return value
    if isinstance(value, type) and issubclass(value, Schema):
        return value()
    if isinstance(value, Mapping):
        for name, field in value.items():
            if not isinstance(field, fields.Field):
                raise TypeError(f"argument {name!r} is not a marshmallow field: {field!r}")
        return Schema.from_dict(dict(value))(unknown=EXCLUDE)
    raise TypeError(f"expected a dict of fields or a marshmallow Schema, got {value!r}")


def is_file_field(field: fields.Field[Any]) -> bool:
    """A file argument: ``metadata={"type": "file"}`` (or marshmallow 3 ``type="file"``)."""
    return field.metadata.get("type") == "file"


def is_file_list(field: fields.Field[Any]) -> bool:
    """A list of files: ``fields.List(fields.Field(metadata={"type": "file"}))``."""
    return isinstance(field, fields.List) and is_file_field(field.inner)


def file_fields(schema: Schema) -> list[str]:
    """Names (as sent by clients) of the schema's file and list-of-files arguments."""
    return [
        data_key(name, f)
        for name, f in schema.fields.items()
        if is_file_field(f) or is_file_list(f)
    ]


def data_key(name: str, field: fields.Field[Any]) -> str:
    """The key clients use for a field."""
    return field.data_key or name


def description(field: fields.Field[Any]) -> str:
    """A field's description, from marshmallow 4 or marshmallow 3 style metadata."""
    return str(field.metadata.get("description", ""))


def accept_choices(schema: Schema) -> list[str]:
    """The media types a plugin can answer with, from its ``accept`` argument.

    Empty when the plugin has no ``accept`` argument (it answers JSON only).
    """
    field = schema.fields.get(ACCEPT)
    if field is None:
        return []
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            return [str(choice) for choice in validator.choices]
    return []
