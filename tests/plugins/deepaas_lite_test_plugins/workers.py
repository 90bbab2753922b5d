"""Plugins for the predict worker pool: a CPU burner and one that dies or raises on demand."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from marshmallow import fields, validate

WARMED_PIDS: list[int] = []


def burn(iterations: int) -> int:
    acc = 0
    for i in range(iterations):
        acc = (acc * 31 + i) % 1000003
    return acc


class Burner:
    """About 5 ms of pure Python per call (it holds the GIL)."""

    def get_predict_args(self) -> dict[str, fields.Field]:
        return {"iterations": fields.Int(load_default=75_000)}

    def predict(self, iterations: int) -> dict[str, Any]:
        return {"checksum": burn(iterations), "pid": os.getpid()}


def _refuse() -> None:
    raise ValueError("this answer cannot be read back")


class Unreadable:
    """Pickles, but unpickling it raises: an answer the server cannot read."""

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _refuse, ()


class Fragile:
    """Answers with its pid and when the call started, or dies, raises, sleeps or
    answers unreadably, as asked.

    ``warm`` is recorded. With ``DEEPAAS_LITE_TEST_MARK_DIR`` set, each call first
    writes a file ``<pid>`` there, so a test can tell that the call has started.
    """

    def __init__(self) -> None:
        self.warmed_at: float | None = None

    def warm(self) -> None:
        delay = float(os.environ.get("DEEPAAS_LITE_TEST_WARM_DELAY", "0"))
        time.sleep(delay)
        self.warmed_at = time.time()

    def get_predict_args(self) -> dict[str, fields.Field]:
        return {
            "action": fields.Str(
                load_default="pid",
                validate=validate.OneOf(
                    ["pid", "exit", "kill", "http", "value", "sleep", "unreadable", "lock"]
                ),
            ),
            "seconds": fields.Float(load_default=0.0),
        }

    def predict(self, action: str, seconds: float) -> Any:
        started = time.monotonic()
        marks = os.environ.get("DEEPAAS_LITE_TEST_MARK_DIR")
        if marks:
            (Path(marks) / str(os.getpid())).touch()
        if action == "exit":
            os._exit(7)
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "http":
            raise web.HTTPPaymentRequired(reason="Pay first")
        if action == "value":
            raise ValueError("the worker says no")
        if action == "sleep":
            time.sleep(seconds)
        if action == "unreadable":
            return Unreadable()
        if action == "lock":
            return {"lock": threading.Lock()}  # does not pickle
        return {"pid": os.getpid(), "warmed_at": self.warmed_at, "started": started}
