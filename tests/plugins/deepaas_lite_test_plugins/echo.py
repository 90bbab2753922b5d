"""A plugin that echoes its arguments, with every kind of argument the contract has."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from marshmallow import fields, validate


def get_metadata() -> dict[str, Any]:
    return {"name": "echo", "description": "Echoes its arguments", "version": "0.0.1"}


def get_predict_args() -> dict[str, fields.Field]:
    return {
        "data": fields.List(
            fields.Float(),
            required=True,
            metadata={"description": "Numbers to echo"},
        ),
        "mode": fields.Str(
            load_default="plain",
            validate=validate.OneOf(["plain", "upper"]),
            metadata={"description": "How to echo"},
        ),
        "count": fields.Int(
            load_default=1,
            validate=validate.Range(min=1, max=10),
            metadata={"description": "Repetitions"},
        ),
        "label": fields.Str(
            validate=validate.Length(min=1, max=20),
            metadata={"description": "A label"},
        ),
        "sleep": fields.Float(load_default=0.0, metadata={"description": "Seconds to sleep"}),
        "upload": fields.Field(
            metadata={"type": "file", "location": "form", "description": "A file"}
        ),
        "accept": fields.Str(
            load_default="application/json",
            validate=validate.OneOf(["application/json", "text/plain", "image/png"]),
            metadata={"description": "Media type of the answer"},
        ),
    }


def get_train_args() -> dict[str, fields.Field]:
    return {
        "epochs": fields.Int(load_default=1, metadata={"description": "Epochs"}),
        "sleep": fields.Float(load_default=0.0, metadata={"description": "Seconds"}),
    }


def predict(**kwargs: Any) -> Any:
    if kwargs.get("sleep"):
        time.sleep(kwargs["sleep"])
    upload = kwargs.get("upload")
    out: dict[str, Any] = {
        key: value for key, value in kwargs.items() if key not in {"upload", "accept"}
    }
    if upload is not None:
        with open(upload.filename, "rb") as f:
            content = f.read()
        out["upload"] = {
            "name": upload.name,
            "path": upload.filename,
            "exists": os.path.exists(upload.filename),
            "content_type": upload.content_type,
            "original_filename": upload.original_filename,
            "content": content.decode("utf-8", "replace"),
        }
    accept = kwargs.get("accept", "application/json")
    if accept == "text/plain":
        return json.dumps(out, sort_keys=True)
    if accept == "image/png" and upload is not None:
        return open(upload.filename, "rb")  # an open file, as some AI4OS plugins return
    if accept == "image/png":
        return b"\x89PNG\r\n\x1a\n" + json.dumps(out, sort_keys=True).encode()
    return out


def train(**kwargs: Any) -> dict[str, Any]:
    if kwargs.get("sleep"):
        time.sleep(kwargs["sleep"])
    return {"trained": kwargs}
