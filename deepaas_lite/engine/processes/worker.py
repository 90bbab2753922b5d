"""A predict worker process: load one plugin, warm it once, then serve calls forever.

It runs in a spawned interpreter. The first message it sends is ``("ready", pid)`` or
``("failed", reason)``; then for each ``(method, payload)`` received it answers
``(True, value, seconds)`` or ``(False, error, seconds)``: ``seconds`` is how long the
call took, which tells the server whether to send it several calls at once. It ends
when the server closes the socket.
"""

from __future__ import annotations

import logging
import signal
import socket
import time
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.engine import calls, wire
from deepaas_lite.model import loading
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

# What a call that cannot cross to or from a worker (it does not pickle) says to do.
USE_THREADS = "(serve it in threads: predict_workers = 0)"


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
    calls_in = wire.Reader(sock)
    while True:
        try:
            method, payload = calls_in.recv()
        except (EOFError, OSError):
            return
        start = time.perf_counter()
        ok, value = calls.answer(model, method, payload)
        if not _send(sock, (ok, value, time.perf_counter() - start), model.id):
            return


def _send(sock: socket.socket, message: Any, model_id: str = "") -> bool:
    """Send ``message``; an output that does not pickle is sent as an error instead."""
    try:
        frame = wire.dumps(message)
    except Exception as exc:
        error = exceptions.PluginFailed(
            f"Model '{model_id}' returned output that cannot leave its worker process: "
            f"{exc} {USE_THREADS}"
        )
        frame = wire.dumps((False, error, 0.0))
    try:
        wire.send(sock, frame)
    except OSError:
        return False
    return True
