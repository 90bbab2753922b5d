"""What a training's process does wherever it runs (a local process, ``child.py``; a Ray
task, ``engine/ray/remote.py``): its output on a pipe, and ``train``'s result as JSON."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any

from deepaas_lite.model.output import finite
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training.records import to_json


def capture_output(fd: int) -> None:
    """Point file descriptors 1 and 2 (inherited by child processes) at ``fd``, a log
    pipe's write end (closed here), line-buffered; logging writes INFO lines there."""
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


def flush() -> None:
    """Flush ``sys.stdout`` and ``sys.stderr``, whatever state they are in."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def train_to_json(wrapper: ModelWrapper, kwargs: dict[str, Any]) -> str:
    """``train``'s result as JSON text. NaN and Infinity (not JSON) are kept as null,
    and the log says where they were."""
    output, replaced = finite(wrapper.train(kwargs))
    if replaced:
        print(f"deepaas-lite: result stored with null for {', '.join(replaced)}", flush=True)
    return to_json(output)
