"""What runs inside a job's local process (the target of ``jobs.py``'s processes).

The process leads a session of its own (so stopping it kills everything it started)
and sends what it and its children print to its log pipe. It loads its model's plugin
by name first, then waits for its one job on a socket: it may be started ahead of
the job, so that the job starts at once. It runs the job's call (``calls.run_job``)
and reports to the server on the same socket, as framed pickles (``wire``):
``("started", None)`` once it has its job and its plugin is loaded, ``("progress",
(fraction, message))`` for each ``report_progress``, then ``("outcome", Outcome)``.
It knows nothing of records: the server applies what it reports. It dies with the
server: if its parent goes away, it kills its own process group; and it ends at once
when the server closes the socket before sending a job.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from typing import Any

from deepaas_lite.engine import calls, wire
from deepaas_lite.engine.capture import capture_output, flush
from deepaas_lite.engine.protocol import Job
from deepaas_lite.model import progress
from deepaas_lite.model.loading import load_model
from deepaas_lite.model.wrapper import ModelWrapper

PARENT_CHECK_INTERVAL = 0.5

STARTED = "started"
PROGRESS = "progress"
OUTCOME = "outcome"


def main(model_id: str, log_fd: int, events: socket.socket, parent_pid: int) -> None:
    """Entry point of the job's process (a ``multiprocessing`` spawn target)."""
    os.setsid()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    capture_output(log_fd)
    _die_with_parent(parent_pid)
    loaded = _Loaded(model_id)
    try:
        job: Job = wire.recv(events)
    except (EOFError, OSError):  # not needed after all
        flush()
        os._exit(0)
    report = _Reporter(events)
    with contextlib.suppress(OSError):
        report(STARTED, None)
    progress.set_reporter(lambda fraction, message: report(PROGRESS, (fraction, message)))
    outcome = calls.run_job(job.model_id, job.kind, lambda: job.kwargs, job.uuid, load=loaded)
    flush()
    try:
        report(OUTCOME, outcome)
        code = 0
    except OSError:  # the server is gone
        code = 1
    # Skip interpreter shutdown: threads or processes the plugin left behind must not
    # keep the job alive once its call has returned.
    os._exit(code)


class _Loaded:
    """The plugin, loaded now; what loading it raised is raised again when it is used
    (by the job's call, whose error it then is)."""

    def __init__(self, model_id: str) -> None:
        self._model_id = model_id
        self._model: ModelWrapper | None = None
        self._error: BaseException | None = None
        try:
            self._model = load_model(model_id)
        except BaseException as exc:
            self._error = exc

    def __call__(self, model_id: str) -> ModelWrapper:
        if model_id != self._model_id:
            raise ValueError(f"this process loaded '{self._model_id}', not '{model_id}'")
        if self._error is not None:
            raise self._error
        assert self._model is not None
        return self._model


class _Reporter:
    """Sends events to the server, one at a time (``train`` may report from threads)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def __call__(self, kind: str, value: Any) -> None:
        frame = wire.dumps((kind, value))
        with self._lock:
            wire.send(self._sock, frame)


def _die_with_parent(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_INTERVAL)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="deepaas-parent-watch", daemon=True).start()
