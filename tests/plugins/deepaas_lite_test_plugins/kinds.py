"""A plugin with every kind of argument, for schemathesis and the spec tests.

``predict`` and ``train`` answer what they received (files as their name, type and
size), so any valid request succeeds: a failure here is the server's, never the plugin's.
"""

from __future__ import annotations

import json
import os
from typing import Any

from marshmallow import Schema, fields, validate

from deepaas_lite.model.uploads import UploadedFile

ACCEPT = ["application/json", "text/plain", "image/png"]


class Point(Schema):
    x = fields.Float(required=True, metadata={"description": "Abscissa"})
    y = fields.Float(load_default=0.0, metadata={"description": "Ordinate"})


def _file(description: str) -> fields.Field:
    return fields.Field(metadata={"type": "file", "location": "form", "description": description})


def get_metadata() -> dict[str, Any]:
    return {"name": "kinds", "description": "Every kind of argument", "version": "0.0.1"}


def get_predict_args() -> dict[str, fields.Field]:
    return {
        "numbers": fields.List(
            fields.Float(),
            required=True,
            metadata={"description": "A list of numbers", "example": [1.5, 2]},
        ),
        "words": fields.List(
            fields.Str(validate=validate.Length(max=10)),
            validate=validate.Length(max=5),
            metadata={"description": "A list of strings"},
        ),
        "colour": fields.Str(
            load_default="red",
            validate=validate.OneOf(["red", "green", "blue"]),
            metadata={"description": "An enum"},
        ),
        "flag": fields.Bool(load_default=False, metadata={"description": "A boolean"}),
        "level": fields.Int(
            load_default=1,
            validate=validate.Range(min=1, max=5),
            metadata={"description": "An integer range"},
        ),
        "ratio": fields.Float(
            validate=validate.Range(min=0, max=1, max_inclusive=False),
            metadata={"description": "A number range"},
        ),
        "point": fields.Nested(Point, metadata={"description": "A nested object"}),
        "tags": fields.Dict(
            keys=fields.Str(), values=fields.Int(), metadata={"description": "A dict"}
        ),
        "größe": fields.Float(metadata={"description": "A name that is not ASCII"}),
        "upload": _file("A file"),
        "uploads": fields.List(_file("One of the files"), metadata={"description": "Files"}),
        "accept": fields.Str(
            load_default=ACCEPT[0],
            validate=validate.OneOf(ACCEPT),
            metadata={"description": "Media type of the answer"},
        ),
    }


def get_train_args() -> dict[str, fields.Field]:
    """No files, so that JSON bodies are documented (and tested) too."""
    return {
        "epochs": fields.Int(
            load_default=1,
            validate=validate.Range(min=1, max=3),
            metadata={"description": "Epochs"},
        ),
        "flag": fields.Bool(load_default=False, metadata={"description": "A boolean"}),
        "words": fields.List(
            fields.Str(),
            required=True,
            metadata={"description": "A list of strings", "example": ["a", "b c"]},
        ),
        "options": fields.Dict(
            keys=fields.Str(), values=fields.Float(), metadata={"description": "A dict"}
        ),
    }


def _describe(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        return {
            "name": value.name,
            "original_filename": value.original_filename,
            "content_type": value.content_type,
            "size": os.path.getsize(value.filename),
        }
    if isinstance(value, list):
        return [_describe(item) for item in value]
    return value


def predict(**kwargs: Any) -> Any:
    accept = kwargs.pop("accept", ACCEPT[0])
    out = {key: _describe(value) for key, value in kwargs.items()}
    if accept == "text/plain":
        return json.dumps(out, sort_keys=True)
    if accept == "image/png":
        return b"\x89PNG\r\n\x1a\n" + json.dumps(out, sort_keys=True).encode()
    return out


def train(**kwargs: Any) -> Any:
    return {key: _describe(value) for key, value in kwargs.items()}
