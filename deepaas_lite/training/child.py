"""What runs inside a training process.

The process leads a session of its own (so cancelling kills everything it started),
sends what it and its children print to the training's log pipe, loads the plugin by name,
calls ``train`` and stores its outcome, never the status: the server sets that once
the process has exited (the handshake is told in records.py, above ``_SCHEMA``). It
dies with the server: if its parent goes away, it kills its own process group.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from pathlib import Path

from deepaas_lite.model.loading import load_model
from deepaas_lite.training import inputs, progress
from deepaas_lite.training.process import capture_output, flush, train_to_json
from deepaas_lite.training.records import Store

PARENT_CHECK_INTERVAL = 0.5


def main(db_path: str, uuid: str, log_fd: int, parent_pid: int) -> None:
    """Entry point of the training process (a ``multiprocessing`` spawn target)."""
    os.setsid()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    capture_output(log_fd)
    _die_with_parent(parent_pid)
    code = _train(Store(Path(db_path)), uuid)
    flush()
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
        store.save_outcome(uuid, output=train_to_json(wrapper, inputs.unpack(store.kwargs(uuid))))
    except BaseException as exc:
        traceback.print_exc()
        try:
            store.save_outcome(uuid, message=str(exc) or type(exc).__name__)
        except BaseException:
            traceback.print_exc()
            return 1
    return 0


def _die_with_parent(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_INTERVAL)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="deepaas-parent-watch", daemon=True).start()
