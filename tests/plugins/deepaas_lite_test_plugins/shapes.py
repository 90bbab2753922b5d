"""Plugins whose entry point is a class (instantiated once) or an object."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

INSTANCES: list[ClassPlugin] = []


class PredictArgs(Schema):
    x = fields.Int(required=True, metadata={"description": "A number"})


class ClassPlugin:
    def __init__(self) -> None:
        INSTANCES.append(self)
        self.calls = 0

    def get_predict_args(self) -> type[Schema]:
        return PredictArgs

    def predict(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        return {"x": kwargs["x"], "calls": self.calls, "instances": len(INSTANCES)}


class _ObjectPlugin:
    def get_predict_args(self) -> Schema:
        return PredictArgs()

    def predict(self, **kwargs: Any) -> dict[str, Any]:
        return {"double": kwargs["x"] * 2}


OBJECT_PLUGIN = _ObjectPlugin()
