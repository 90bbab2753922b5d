"""What runs inside a training process.

The process leads a session of its own (so cancelling kills everything it started),
sends what it and its children print to the training's log pipe, loads the plugin by name,
calls ``train`` and stores its outcome, never the status: the server sets that once
the process has exited (the handshake is told in records.py, above ``_SCHEMA``). It
dies with the server: if its parent goes away, it kills its own process group.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from deepaas_lite.model.loading import load_model
from deepaas_lite.model.output import finite
from deepaas_lite.training import inputs, progress
from deepaas_lite.training.records import Store, to_json

PARENT_CHECK_INTERVAL = 0.5


def main(db_path: str, uuid: str, log_fd: int, parent_pid: int) -> None:
    """Entry point of the training process (a ``multiprocessing`` spawn target)."""
    os.setsid()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    _capture_output(log_fd)
    _die_with_parent(parent_pid)
    code = _train(Store(Path(db_path)), uuid)
    _flush()
    # Skip interpreter shutdown: threads or processes the plugin left behind must not
    # keep the training alive once ``train`` has returned.
    os._exit(code)


def _train(store: Store, uuid: str) -> int:
    progress.set_reporter(lambda fraction, message: store.set_progress(uuid, fraction, message))
    try:
        training = store.get(uuid)
        if training is None:
            raise LookupError(f"Training '{uuid}' is not in the store")
        wrapper = load_model(training.model_id)
        output, replaced = finite(wrapper.train(inputs.unpack(store.kwargs(uuid))))
        if replaced:  # NaN and Infinity are not JSON: the result is kept, with null
            print(f"deepaas-lite: result stored with null for {', '.join(replaced)}", flush=True)
        store.save_outcome(uuid, output=to_json(output))
    except BaseException as exc:
        traceback.print_exc()
        try:
            store.save_outcome(uuid, message=str(exc) or type(exc).__name__)
        except BaseException:
            traceback.print_exc()
            return 1
    return 0


def _capture_output(fd: int) -> None:
    """Point file descriptors 1 and 2 (inherited by child processes) at the log pipe."""
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, errors="backslashreplace", closefd=False)  # noqa: SIM115
    os.environ["PYTHONUNBUFFERED"] = "1"
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )


def _die_with_parent(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_INTERVAL)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="deepaas-parent-watch", daemon=True).start()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
