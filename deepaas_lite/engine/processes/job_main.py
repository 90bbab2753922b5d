"""What runs inside a job's local process (the target of ``jobs.JobProcess``).

The process leads a session of its own (so stopping it kills everything it started),
sends what it and its children print to the job's log pipe, loads the plugin by name,
runs the job's call (``calls.run_job``) and reports to the server on a socket, as
framed pickles (``wire``): ``("progress", (fraction, message))`` for each
``report_progress``, then ``("outcome", Outcome)``. It knows nothing of records: the
server applies what it reports. It dies with the server: if its parent goes away, it
kills its own process group.
"""

from __future__ import annotations

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

PARENT_CHECK_INTERVAL = 0.5

PROGRESS = "progress"
OUTCOME = "outcome"


def main(job: Job, log_fd: int, events: socket.socket, parent_pid: int) -> None:
    """Entry point of the job's process (a ``multiprocessing`` spawn target)."""
    os.setsid()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    capture_output(log_fd)
    _die_with_parent(parent_pid)
    report = _Reporter(events)
    progress.set_reporter(lambda fraction, message: report(PROGRESS, (fraction, message)))
    outcome = calls.run_job(job.model_id, job.kind, lambda: job.kwargs, job.uuid)
    flush()
    try:
        report(OUTCOME, outcome)
        code = 0
    except OSError:  # the server is gone
        code = 1
    # Skip interpreter shutdown: threads or processes the plugin left behind must not
    # keep the job alive once its call has returned.
    os._exit(code)


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
