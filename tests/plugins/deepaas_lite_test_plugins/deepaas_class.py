"""A class plugin subclassing ``deepaas.model.v2.base.BaseModel``, as AI4OS plugins do.

Its fields use ``metadata={...}`` and ``load_default=`` (loads under marshmallow 3 and
4); uploads are checked against ``deepaas.model.v2.wrapper.UploadedFile``, in the server
and in a training process.
"""

from __future__ import annotations

from typing import Any

from aiohttp.web import HTTPBadRequest
from deepaas.model.v2 import base
from deepaas.model.v2.wrapper import ReturnedFile, UploadedFile
from webargs import fields, validate


class Classifier(base.BaseModel):
    def get_metadata(self) -> dict[str, Any]:
        return {"name": "deepaas-class", "description": "A BaseModel subclass"}

    def get_predict_args(self) -> dict[str, Any]:
        return {
            "data": fields.Field(
                required=True,
                metadata={"type": "file", "location": "form", "description": "A data file"},
            ),
            "accept": fields.Str(
                validate=validate.OneOf(["application/json", "text/csv"]),
                metadata={"description": "Media type of the answer", "location": "headers"},
            ),
        }

    def predict(self, **kwargs: Any) -> Any:
        data = kwargs["data"]
        if not isinstance(data, UploadedFile):
            raise HTTPBadRequest(reason=f"data is a {type(data).__name__}, not an UploadedFile")
        with open(data.filename, "rb") as f:
            content = f.read()
        if kwargs.get("accept") == "text/csv":
            out = data.filename + ".csv"
            with open(out, "wb") as f:
                f.write(b"size\n" + str(len(content)).encode() + b"\n")
            # Beside the upload: removed with it after the call.
            return ReturnedFile(name="out", filename=out, content_type="text/csv")
        return {"size": len(content), "original_filename": data.original_filename}

    def get_train_args(self) -> dict[str, Any]:
        return {
            "dataset": fields.Field(
                required=True,
                metadata={"type": "file", "location": "form", "description": "Training data"},
            ),
        }

    def train(self, **kwargs: Any) -> dict[str, Any]:
        dataset = kwargs["dataset"]
        if not isinstance(dataset, UploadedFile):
            raise HTTPBadRequest(reason=f"dataset is a {type(dataset).__name__}")
        with open(dataset.filename, "rb") as f:
            return {"bytes": len(f.read()), "is_uploaded_file": True}
