"""A job's output, wherever the job runs (a local process, a Ray task): file
descriptors 1 and 2 on a pipe, so that what the plugin and the processes it starts
print reaches the job's log."""

from __future__ import annotations

import contextlib
import logging
import os
import sys


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
