"""A plugin served with ``--plugin`` by test_ui_forms.py: an optional list of files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marshmallow import fields


class Documents:
    def get_predict_args(self) -> dict[str, fields.Field]:
        return {
            "docs": fields.List(
                fields.Field(metadata={"type": "file", "location": "form"}),
                load_default=None,
                metadata={"description": "Documents to count", "location": "form"},
            ),
            "title": fields.Str(load_default="untitled"),
        }

    def predict(self, docs: list[Any] | None, title: str) -> dict[str, Any]:
        sizes = None if docs is None else [len(Path(d.filename).read_bytes()) for d in docs]
        return {"title": title, "sizes": sizes}
