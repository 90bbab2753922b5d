"""Scratch directories of the calls that run on the Ray cluster, and what killed ones
left behind.

Ray ends a task or actor by killing its process (a cancelled training, a lost actor),
which then cannot remove its scratch directory. Each is named after its process,
``deepaas-<kind>-<pid>-<random>`` in the node's temporary directory, and each new
process (a job's task, a predict actor) first removes those whose process has ended:
once, as it starts, not on every call.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def scratch(kind: str) -> Iterator[Path]:
    """A new, empty directory for one call of ``kind``, removed when the call ends."""
    with tempfile.TemporaryDirectory(prefix=f"deepaas-{kind}-{os.getpid()}-") as directory:
        yield Path(directory)


def sweep(kind: str, root: Path | None = None) -> list[Path]:
    """Remove the scratch directories of ``kind`` whose process has ended; those removed."""
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"deepaas-{kind}-*-*"):
        pid = path.name[len(f"deepaas-{kind}-") :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True
