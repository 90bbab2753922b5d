"""A slow prediction, for prediction jobs: it runs until told to stop, or for a while.

Each call writes ``<marks>/started-<tag>`` (with its pid) as it starts and waits until
``<marks>/release-<tag>`` exists or ``seconds`` have passed; then it answers JSON, or
text for ``accept=text/plain``. A file argument's bytes are counted, so a test can see
that the job read its copy of the upload.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from marshmallow import fields, validate


class Slow:
    def get_predict_args(self) -> dict[str, fields.Field]:
        return {
            "tag": fields.Str(required=True, metadata={"description": "names this call"}),
            "marks": fields.Str(load_default="", metadata={"description": "a directory"}),
            "seconds": fields.Float(load_default=0.0, validate=validate.Range(min=0, max=120)),
            "fail": fields.Bool(load_default=False),
            "data": fields.Field(load_default=None, metadata={"type": "file", "location": "form"}),
            "accept": fields.Str(
                load_default="application/json",
                validate=validate.OneOf(["application/json", "text/plain"]),
            ),
        }

    def predict(self, **kwargs: Any) -> Any:
        tag, marks = kwargs["tag"], kwargs["marks"]
        if marks:  # written whole, then renamed: a reader never sees it empty
            partial = Path(marks, f".started-{tag}")
            partial.write_text(str(os.getpid()))
            partial.replace(Path(marks, f"started-{tag}"))
        deadline = time.monotonic() + kwargs["seconds"]
        while time.monotonic() < deadline:
            if marks and Path(marks, f"release-{tag}").exists():
                break
            time.sleep(0.02)
        if kwargs["fail"]:
            raise RuntimeError(f"call {tag} failed as asked")
        size = None
        if kwargs["data"] is not None:
            size = len(Path(kwargs["data"].filename).read_bytes())
        if kwargs["accept"] == "text/plain":
            return f"call {tag} größe\n"
        return {"tag": tag, "pid": os.getpid(), "size": size}
