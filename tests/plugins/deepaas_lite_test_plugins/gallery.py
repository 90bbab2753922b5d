"""Plugins for the web app's tests: every kind of argument with rendered outputs, and
a training that reports progress one gated step at a time.

``gallery`` takes every kind of argument (``kinds``'s) and answers, by ``accept``:
JSON (a dict of label to score and what it received), a real PNG image, a WAV sound,
a PDF, or text; given ``wait_for``, only once that file exists. ``steps`` trains in
``epochs`` steps; before each step it waits until
the file ``<gate>.<step>`` exists (no gate: it does not wait), then prints a log line
and reports its progress, so a test moves it on one step at a time; what it learnt is
written to the model store (a new version, current once the training is done).
"""

from __future__ import annotations

import io
import json
import math
import struct
import time
import wave
import zlib
from pathlib import Path
from typing import Any

from marshmallow import fields, validate

import deepaas_lite
from deepaas_lite_test_plugins import kinds

ACCEPT = ["application/json", "image/png", "audio/wav", "application/pdf", "text/plain"]


def png(width: int, height: int) -> bytes:
    """A real PNG: a colour gradient, ``width`` x ``height`` pixels."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 128))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        frames = (
            int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))
        )
        sound.writeframes(b"".join(struct.pack("<h", f) for f in frames))
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


class Gallery:
    def get_metadata(self) -> dict[str, Any]:
        return {
            "name": "gallery",
            "description": "Every kind of argument, every kind of output",
            "version": "2.0.1",
            "author": "The deepaas-lite tests",
            "license": "MIT",
            "url": "https://example.invalid/gallery",
        }

    def get_predict_args(self) -> dict[str, fields.Field]:
        args = kinds.get_predict_args()
        args["accept"] = fields.Str(
            load_default=ACCEPT[0],
            validate=validate.OneOf(ACCEPT),
            metadata={"description": "Media type of the answer"},
        )
        args["wait_for"] = fields.Str(
            metadata={"description": "Answer once this file exists (a long prediction)"}
        )
        return args

    def predict(self, **kwargs: Any) -> Any:
        accept = kwargs.pop("accept", ACCEPT[0])
        wait_for = kwargs.pop("wait_for", None)
        while wait_for and not Path(wait_for).exists():
            time.sleep(0.05)
        level = kwargs.get("level", 1)
        if accept == "image/png":
            return png(16 * level, 12 * level)
        if accept == "audio/wav":
            return wav()
        if accept == "application/pdf":
            return pdf()
        received = {key: kinds._describe(value) for key, value in kwargs.items()}
        if accept == "text/plain":
            return json.dumps(received, sort_keys=True)
        numbers = [float(n) for n in kwargs.get("numbers", [])] or [1.0]
        total = sum(abs(n) for n in numbers) or 1.0
        scores = {f"class {i}": abs(n) / total for i, n in enumerate(numbers)}
        return {"scores": scores, "received": received}


class Steps:
    def get_metadata(self) -> dict[str, Any]:
        return {"name": "steps", "description": "Trains step by step", "version": "0.3.0"}

    def get_train_args(self) -> dict[str, fields.Field]:
        return {
            "epochs": fields.Int(
                load_default=3,
                validate=validate.Range(min=1, max=10),
                metadata={"description": "Number of steps"},
            ),
            "gate": fields.Str(
                load_default="",
                metadata={"description": "Wait for the file <gate>.<step> before each step"},
            ),
        }

    def train(self, epochs: int = 3, gate: str = "") -> Any:
        for step in range(1, epochs + 1):
            if gate:
                while not Path(f"{gate}.{step}").exists():
                    time.sleep(0.05)
            print(f"epoch {step}/{epochs}: loss {1 / step:.3f}", flush=True)
            deepaas_lite.report_progress(step / epochs, f"epoch {step}")
        result = {"loss": round(1 / epochs, 3), "accuracy": round(1 - 0.5 / epochs, 3)}
        result["epochs"] = epochs
        (deepaas_lite.model_dir() / "result.json").write_text(json.dumps(result))
        return result
