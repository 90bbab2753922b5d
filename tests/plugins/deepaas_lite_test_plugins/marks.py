"""A plugin whose ``predict`` leaves a mark: a line in the file it is given, once it has
slept. The tests tell from the file which predictions ran."""

from __future__ import annotations

import time
from typing import Any

from marshmallow import fields


def get_predict_args() -> dict[str, fields.Field]:
    return {
        "mark": fields.Str(required=True, metadata={"description": "File to append to"}),
        "label": fields.Str(load_default="", metadata={"description": "The line"}),
        "sleep": fields.Float(load_default=0.0, metadata={"description": "Seconds first"}),
    }


def predict(mark: str, label: str = "", sleep: float = 0.0) -> dict[str, Any]:
    time.sleep(sleep)
    with open(mark, "a") as out:
        out.write(label + "\n")
    return {"label": label}
