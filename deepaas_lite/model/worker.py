"""A predict worker process: load one plugin, warm it once, then serve calls forever.

It runs in a spawned interpreter. The first message it sends is ``("ready", pid)`` or
``("failed", reason)``; then for each ``(method, payload)`` received it answers
``(True, value)`` or ``(False, error)``. It ends when the server closes the socket.
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.model import loading, wire
from deepaas_lite.model.predictor import call_guarded
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

PREDICT = "predict"
PREDICT_BATCH = "predict_batch"


def main(sock: socket.socket, model_id: str, warm: bool) -> None:
    """The process's target."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when we stop
    with sock:
        try:
            model = loading.load_model(model_id)
            if warm:
                model.warm()
        except BaseException as exc:
            _send(sock, ("failed", f"Model '{model_id}' failed to start: {exc!r}"))
            return
        if not _send(sock, ("ready", None)):
            return
        _serve(sock, model)


def _serve(sock: socket.socket, model: ModelWrapper) -> None:
    while True:
        try:
            method, payload = wire.recv(sock)
        except (EOFError, OSError):
            return
        if not _send(sock, _answer(model, method, payload), model.id):
            return


def _answer(model: ModelWrapper, method: str, payload: Any) -> tuple[bool, Any]:
    try:
        if method == PREDICT:
            return True, call_guarded(model, model.predict, payload)
        outputs = call_guarded(model, model.predict_batch, payload)
        if isinstance(outputs, list | tuple):
            outputs = [
                wire.capture(out, model.id) if isinstance(out, BaseException) else out
                for out in outputs
            ]
        return True, outputs
    except Exception as exc:
        return False, wire.capture(exc, model.id)


def _send(sock: socket.socket, message: Any, model_id: str = "") -> bool:
    """Send ``message``; an output that does not pickle is sent as an error instead."""
    try:
        frame = wire.dumps(message)
    except Exception as exc:
        error = exceptions.PluginFailed(
            f"Model '{model_id}' returned output that cannot leave its worker process: {exc}"
        )
        frame = wire.dumps((False, error))
    try:
        wire.send(sock, frame)
    except OSError:
        return False
    return True
