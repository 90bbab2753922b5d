"""What runs on the Ray cluster: one job (a training) as a task, one model as a
predict actor.

Both load the plugin by its entry-point name, so deepaas-lite and the plugin must be
installed on every node (in the same versions as on the server). Nothing here reaches
the server's disk: file arguments arrive with their content (``files.py``), and a
job sends back what it prints, its progress and its outcome as a stream of events (a
Ray generator task), which the server hands to the job's sink:

* ``("log", bytes)``: output of the job and of the processes it started;
* ``("progress", (fraction, message))``: a ``report_progress`` call;
* ``("outcome", Outcome)``: how the call ended, always last.
"""

from __future__ import annotations

import os
import pickle
import queue
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from deepaas_lite.engine import calls, wire
from deepaas_lite.engine.capture import capture_output, flush
from deepaas_lite.engine.protocol import Outcome
from deepaas_lite.engine.ray import files
from deepaas_lite.engine.ray.scratch import scratch, sweep
from deepaas_lite.model import progress
from deepaas_lite.model.loading import load_model

LOG_CHUNK = 65536
# How long the outcome waits for the rest of the output, when a process the plugin
# started still holds it open.
DRAIN_GRACE = 2.0

Event = tuple[str, Any]

LOG = "log"
PROGRESS = "progress"
OUTCOME = "outcome"


def run_job(
    model_id: str, kind: str, kwargs: bytes, contents: files.Contents, uuid: str | None = None
) -> Iterator[Event]:
    """A Ray generator task: run a job's call (``calls.run_job``; ``kwargs`` pickled),
    yielding events as they come.

    The call runs in a thread; output goes through a pipe (file descriptors 1 and 2,
    inherited by the processes it starts). Run it with ``max_calls=1``: the worker
    process, with whatever the plugin left in it, ends with the job.
    """
    events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
    sweep(kind)  # a new process (max_calls=1): what killed ones left
    with scratch(kind) as directory:
        _capture_output(events)
        progress.set_reporter(lambda *report: events.put((PROGRESS, report)))
        threading.Thread(
            target=_run,
            args=(events, model_id, kind, kwargs, contents, directory, uuid),
            name=f"deepaas-{kind}",
            daemon=True,
        ).start()
        outcome: Event | None = None
        output_open = True
        while outcome is None or output_open:
            try:
                event = events.get(timeout=None if outcome is None else DRAIN_GRACE)
            except queue.Empty:
                break
            if event is None:
                output_open = False
            elif event[0] == OUTCOME:
                outcome = event
                _release_output()
            else:
                yield event
        assert outcome is not None
        yield outcome


def _run(
    events: queue.SimpleQueue[Event | None],
    model_id: str,
    kind: str,
    kwargs: bytes,
    contents: files.Contents,
    directory: Path,
    uuid: str | None,
) -> None:
    def arguments() -> dict[str, Any]:
        return files.unpack(pickle.loads(kwargs), contents, directory)

    outcome: Outcome = calls.run_job(model_id, kind, arguments, uuid)
    flush()
    events.put((OUTCOME, outcome))


def _capture_output(events: queue.SimpleQueue[Event | None]) -> None:
    """Point file descriptors 1 and 2 at a pipe that a thread turns into log events."""
    flush()
    read_fd, write_fd = os.pipe()
    capture_output(write_fd)

    def pump() -> None:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(LOG_CHUNK):
                events.put((LOG, chunk))
        events.put(None)

    threading.Thread(target=pump, name="deepaas-train-log", daemon=True).start()


def _release_output() -> None:
    """Close this process's ends of the pipe, so that the log ends once the plugin's
    own processes are gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


class ModelActor:
    """One warmed copy of a model, serving one call at a time."""

    def __init__(self, model_id: str, warm: bool) -> None:
        sweep("predict")  # what killed actors left
        self._model = load_model(model_id)
        if warm:
            self._model.warm()

    def ready(self) -> int:
        """Answers once loaded and warmed: the process id."""
        return os.getpid()

    def call(self, method: str, payload: Any, contents: files.Contents) -> tuple[bool, Any]:
        """``(True, output)`` or ``(False, error)`` as ``wire.capture`` sends it."""
        model = self._model
        with scratch("predict") as directory:
            try:
                if method == calls.PREDICT:
                    payload = _unpack_one(payload, contents, directory)
                else:
                    payload = [
                        _unpack_one(kwargs, contents, directory / str(i))
                        for i, kwargs in enumerate(payload)
                    ]
            except Exception as exc:
                return False, wire.capture(exc, model.id)
            return calls.answer(model, method, payload)


def _unpack_one(
    kwargs: Mapping[str, Any], contents: files.Contents, directory: Path
) -> Mapping[str, Any]:
    return files.unpack(kwargs, contents, directory) if contents else kwargs
