"""A plugin served from this file (``--plugin``) that uses the model store.

Its versions are told apart by what they predict (the ``tag`` they were trained with);
``load`` takes ``load_delay`` seconds, so that requests arrive while a new version loads.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from marshmallow import fields

import deepaas_lite

MODEL_FILE = "model.json"

_model: dict[str, Any] | None = None


def get_train_args() -> dict[str, fields.Field]:
    return {
        "tag": fields.Str(load_default="v"),
        "fail": fields.Bool(load_default=False),
        "load_delay": fields.Float(load_default=0.0),
        "sleep": fields.Float(load_default=0.0),
        "load_fails": fields.Bool(load_default=False),
        "load_fails_once": fields.Bool(load_default=False),
    }


def train(
    tag: str = "v",
    fail: bool = False,
    load_delay: float = 0.0,
    sleep: float = 0.0,
    load_fails: bool = False,
    load_fails_once: bool = False,
) -> Any:
    path = deepaas_lite.model_dir()
    model = {"tag": tag, "load_delay": load_delay, "load_fails": load_fails}
    model["load_fails_once"] = load_fails_once
    (path / MODEL_FILE).write_text(json.dumps(model))
    time.sleep(sleep)
    if fail:
        raise RuntimeError("failed on purpose")
    return {"tag": tag, "dir": str(path)}


def load(path: Path) -> None:
    global _model
    model = json.loads((path / MODEL_FILE).read_text())
    time.sleep(model["load_delay"])  # a slow load: the previous version serves meanwhile
    if model["load_fails"]:
        raise RuntimeError(f"version {model['tag']} cannot be loaded")
    if model.get("load_fails_once"):  # the first process to load it fails, the others not
        try:
            os.close(os.open(path / "failed-once", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            raise RuntimeError(f"version {model['tag']} failed to load in {os.getpid()}")
    _model = {**model, "dir": str(path)}


def warm() -> None:
    path = deepaas_lite.model_dir()
    if (path / MODEL_FILE).exists():
        load(path)


def predict() -> Any:
    model = _model
    if model is None:
        raise deepaas_lite.ModelNotReady("train first")
    return {
        "tag": model["tag"],
        "pid": os.getpid(),
        "loaded_from": model["dir"],
        "model_dir": str(deepaas_lite.model_dir()),
    }
