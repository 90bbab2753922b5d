"""Plugins for hostile input and awkward output: echoed text, lists of files, NaN, trees."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields, validate


class TextEcho:
    """Answers ``text/plain`` with the ``text`` it was given, unchanged."""

    def get_predict_args(self) -> dict[str, fields.Field]:
        return {
            "text": fields.Str(required=True),
            "accept": fields.Str(
                load_default="text/plain",
                validate=validate.OneOf(["text/plain", "application/json"]),
            ),
        }

    def predict(self, text: str, accept: str) -> Any:
        return text if accept == "text/plain" else {"text": text}


class FileList:
    """One file argument and one list of files; answers what it got."""

    def get_predict_args(self) -> dict[str, fields.Field]:
        return {
            "one": fields.Field(metadata={"type": "file", "location": "form"}),
            "more": fields.List(fields.Field(metadata={"type": "file"})),
        }

    def predict(self, one: Any = None, more: Any = ()) -> Any:
        return {
            "one": None if one is None else Path(one.filename).read_text(),
            "more": [Path(item.filename).read_text() for item in more],
        }


def _not_finite(kind: str) -> float:
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[kind]


class NotFinite:
    """Outputs and training results holding NaN or Infinity."""

    def get_predict_args(self) -> dict[str, fields.Field]:
        return {"kind": fields.Str(load_default="nan")}

    def get_train_args(self) -> dict[str, fields.Field]:
        return {"kind": fields.Str(load_default="nan")}

    def predict(self, kind: str) -> Any:
        return {"label": "x", "scores": [0.5, 1.0, _not_finite(kind)]}

    def train(self, kind: str) -> Any:
        return {"loss": _not_finite(kind), "history": [0.5, _not_finite(kind)], "epochs": 2}


class Node(Schema):
    name = fields.Str()
    child = fields.Nested(lambda: Node())


class Tree:
    """Takes a tree of nested objects, as deep as the client likes."""

    def get_predict_args(self) -> dict[str, fields.Field]:
        return {"tree": fields.Nested(Node, required=True)}

    def predict(self, tree: dict[str, Any]) -> Any:
        depth = 0
        while tree:
            depth += 1
            tree = tree.get("child", {})
        return {"depth": depth}
