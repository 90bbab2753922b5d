"""A module plugin written as AI4OS plugins of the DEEPaaS 2.x era are.

marshmallow 3 keyword metadata, ``missing=``, ``webargs.fields``, a file argument checked
against ``deepaas.model.v2.wrapper.UploadedFile``, an ``accept`` read from the headers,
aiohttp's ``HTTPBadRequest`` and a response ``schema``. Under marshmallow 4 it cannot
load (keyword metadata), as under DEEPaaS.
"""

from __future__ import annotations

from typing import Any

from aiohttp.web import HTTPBadRequest
from deepaas.model.v2.wrapper import UploadedFile
from webargs import fields, validate

schema = {
    "label": fields.Str(required=True, description="The predicted label"),
    "size": fields.Int(required=True, description="Bytes in the image"),
    "threshold": fields.Float(description="The threshold used"),
}


def get_metadata() -> dict[str, Any]:
    return {
        "name": "deepaas-style",
        "description": "A plugin in the DEEPaaS 2.x style",
        "author": "AI4OS-style tests",
        "version": "0.3.0",
        "license": "MIT",
    }


def get_predict_args() -> dict[str, Any]:
    return {
        "image": fields.Field(
            required=True,
            type="file",
            location="form",
            description="An image to classify",
        ),
        "threshold": fields.Float(
            missing=0.5,
            description="Decision threshold",
            validate=validate.Range(min=0, max=1),
        ),
        "accept": fields.Str(
            description="Media type of the answer",
            validate=validate.OneOf(["application/json", "text/plain"]),
            location="headers",
        ),
    }


def get_train_args() -> dict[str, Any]:
    return {
        "epochs": fields.Int(missing=1, description="Epochs to train"),
        "dataset": fields.Field(
            type="file", location="form", description="Training data", required=False
        ),
    }


def predict(**kwargs: Any) -> Any:
    image = kwargs["image"]
    if not isinstance(image, UploadedFile):
        raise HTTPBadRequest(reason=f"image is a {type(image).__name__}, not an UploadedFile")
    with open(image.filename, "rb") as f:
        size = len(f.read())
    if size == 0:
        raise HTTPBadRequest(reason="The image is empty")
    label = "big" if size > 10 else "small"
    if kwargs.get("accept") == "text/plain":
        return f"{label} ({size} bytes)"
    return {"label": label, "size": size, "threshold": kwargs["threshold"]}


def train(**kwargs: Any) -> dict[str, Any]:
    dataset = kwargs.get("dataset")
    if dataset is not None and not isinstance(dataset, UploadedFile):
        raise HTTPBadRequest(reason="dataset is not an UploadedFile")
    return {"epochs": kwargs["epochs"], "dataset": None if dataset is None else dataset.name}
