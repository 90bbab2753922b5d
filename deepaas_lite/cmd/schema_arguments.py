"""``deepaas-cli``'s options for a model's arguments, generated from its schema.

Each argument ``x`` becomes ``--x`` (a list argument is repeated, a file argument takes
a path, an object argument takes JSON); its help says its type, choices, range, default
and whether it is required. Values from the command line and from ``--input-json`` are
turned into what the schema loads: files into ``UploadedFile``s of the given paths.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate

from deepaas_lite import exceptions
from deepaas_lite.model import args as model_args
from deepaas_lite.model import values
from deepaas_lite.model.uploads import UploadedFile

DEST_PREFIX = "arg:"  # keeps an argument named like an option of deepaas-cli apart

_TYPE_NAMES: tuple[tuple[type[fields.Field[Any]], str], ...] = (
    (fields.Boolean, "bool"),
    (fields.Integer, "int"),
    (fields.Float, "float"),
    (fields.Decimal, "float"),
    (fields.Number, "number"),
    (fields.DateTime, "date-time"),
    (fields.Date, "date"),
    (fields.UUID, "uuid"),
    (fields.String, "str"),
)


def _is_list(field: fields.Field[Any]) -> bool:
    return isinstance(field, fields.List | fields.Tuple)


def _item(field: fields.Field[Any]) -> fields.Field[Any]:
    """The field of one value: a list's items, else the field itself."""
    if isinstance(field, fields.List):
        return field.inner
    return field


def _is_file(field: fields.Field[Any]) -> bool:
    return model_args.is_file_field(field) or model_args.is_file_field(_item(field))


def _is_object(field: fields.Field[Any]) -> bool:
    return isinstance(_item(field), fields.Nested | fields.Mapping)


def _type_name(field: fields.Field[Any]) -> str:
    if _is_file(field):
        return "file path"
    if _is_object(field):
        return "JSON object"
    item = _item(field)
    return next((name for cls, name in _TYPE_NAMES if isinstance(item, cls)), "value")


def _choices(field: fields.Field[Any]) -> list[str]:
    item = _item(field)
    if isinstance(item, fields.Boolean):
        return ["true", "false"]
    for validator in item.validators:
        if isinstance(validator, validate.OneOf):
            return [str(choice) for choice in validator.choices]
    return []


def _range(validator: validate.Range) -> str:
    low = (
        ""
        if validator.min is None
        else f"{validator.min} {'<=' if validator.min_inclusive else '<'} "
    )
    high = (
        ""
        if validator.max is None
        else f" {'<=' if validator.max_inclusive else '<'} {validator.max}"
    )
    return f"{low}value{high}"


def _length(validator: validate.Length, unit: str) -> str:
    if validator.equal is not None:
        return f"exactly {validator.equal} {unit}"
    if validator.min is not None and validator.max is not None:
        return f"{validator.min} to {validator.max} {unit}"
    if validator.min is not None:
        return f"at least {validator.min} {unit}"
    return f"at most {validator.max} {unit}"


def _limits(field: fields.Field[Any], each: str = "") -> list[str]:
    out = []
    unit = "items" if _is_list(field) else "characters"
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            out.append(each + _range(validator))
        elif isinstance(validator, validate.Length):
            out.append(each + _length(validator, unit))
    if _is_list(field) and not each:
        out.extend(_limits(_item(field), each="each "))
    return out


def _default(field: fields.Field[Any]) -> str | None:
    default = field.load_default
    if default is missing:
        return None
    if callable(default):
        return "computed"
    if isinstance(default, bool):
        return "true" if default else "false"
    if default is None:
        return "none"
    if isinstance(default, str) and not default:
        return '""'  # not an empty "default: "
    return json.dumps(default) if isinstance(default, dict | list) else str(default)


def help_text(field: fields.Field[Any]) -> str:
    """The field's description, then ``[type; repeat for a list; choices; ...]``."""
    facts = [_type_name(field)]
    if _is_list(field):
        facts.append("repeat for a list")
    choices = _choices(field)
    if choices and not isinstance(_item(field), fields.Boolean):
        facts.append(("each one of: " if _is_list(field) else "one of: ") + ", ".join(choices))
    facts.extend(_limits(field))
    default = _default(field)
    if default is not None:
        facts.append(f"default: {default}")
    if field.required:
        facts.append("required")
    described = model_args.description(field)
    facts_text = "[" + "; ".join(facts) + "]"
    # argparse formats help with %-style placeholders.
    return (f"{described} {facts_text}" if described else facts_text).replace("%", "%%")


def _metavar(field: fields.Field[Any]) -> str:
    if _is_file(field):
        return "PATH"
    if _is_object(field):
        return "JSON"
    choices = _choices(field)
    if choices:
        return "{" + ",".join(choices) + "}"
    return _type_name(field).upper().replace(" ", "_").replace("-", "_")


_SHOWN_REQUIRED: weakref.WeakSet[argparse.Action] = weakref.WeakSet()


class Formatter(argparse.HelpFormatter):
    """Usage shows a required argument without brackets, as required.

    argparse itself does not require it: ``--input-json`` may give it, and a missing
    one is reported with the other invalid arguments.
    """

    def _format_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None,
    ) -> str:
        actions = list(actions)
        shown = [action for action in actions if action in _SHOWN_REQUIRED]
        for action in shown:
            action.required = True
        try:
            return super()._format_usage(usage, actions, groups, prefix)
        finally:
            for action in shown:
                action.required = False


def add_options(parser: argparse.ArgumentParser, schema: Schema) -> None:
    """One ``--<name>`` option per argument of ``schema``; the required ones apart."""
    required = parser.add_argument_group("required arguments (here or in --input-json)")
    for name, field in schema.fields.items():
        key = model_args.data_key(name, field)
        action = (required if field.required else parser).add_argument(
            f"--{key}",
            dest=DEST_PREFIX + key,
            action="append" if _is_list(field) else "store",
            metavar=_metavar(field),
            help=help_text(field),
        )
        if field.required:
            _SHOWN_REQUIRED.add(action)


def from_namespace(schema: Schema, namespace: argparse.Namespace) -> dict[str, Any]:
    """The arguments given on the command line, read from text as a query string is
    (booleans ``true``/``false``/``1``/``0``, object arguments as JSON text)."""
    given = {}
    for name, field in schema.fields.items():
        key = model_args.data_key(name, field)
        value = getattr(namespace, DEST_PREFIX + key, None)
        if value is not None:
            given[key] = value
    read, errors = values.from_text(schema, given)
    if errors:
        raise exceptions.InvalidArguments(errors)
    return read


def from_json(schema: Schema, given: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments of ``--input-json``: JSON's own types, as in a JSON body."""
    errors = values.json_errors(schema, given)
    if errors:
        raise exceptions.InvalidArguments(errors)
    return dict(given)


def _upload(key: str, path: Any) -> UploadedFile:
    if not isinstance(path, str) or not os.path.isfile(path):
        raise ValueError(f"No such file: {path!r}")
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return UploadedFile(key, os.path.abspath(path), content_type, os.path.basename(path))


def load(schema: Schema, given: Mapping[str, Any]) -> dict[str, Any]:
    """Validated arguments; file arguments are paths, read where they are.

    Raises ``InvalidArguments`` naming every invalid or unknown argument.
    """
    raw = dict(given)
    errors: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = model_args.data_key(name, field)
        if key not in raw or not _is_file(field):
            continue
        try:
            value = raw[key]
            if _is_list(field):
                items = value if isinstance(value, list) else [value]
                raw[key] = [_upload(key, item) for item in items]
            else:
                raw[key] = _upload(key, value)
        except ValueError as exc:
            errors[key] = [str(exc)]
            del raw[key]
    try:
        loaded: dict[str, Any] = schema.load(raw, unknown=RAISE)
    except ValidationError as exc:
        messages: Any = exc.messages
        errors = {**(messages if isinstance(messages, dict) else {"_schema": messages}), **errors}
    if errors:
        raise exceptions.InvalidArguments(errors)
    return loaded
