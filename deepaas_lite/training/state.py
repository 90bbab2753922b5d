"""The state directory at startup: writable, with a records database that can be read.

A database that cannot be read is never deleted: the server refuses to start, or, when
asked to (``reset``), moves it aside and starts a new one.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from deepaas_lite import exceptions
from deepaas_lite.training.records import Store

LOG = logging.getLogger(__name__)

DATABASE = "trainings.sqlite3"
_SIDE_FILES = ("-wal", "-shm")


def check(state_dir: Path, reset: bool = False) -> Path | None:
    """Make sure the server can use ``state_dir``; raise ``StateUnusable`` if not.

    With ``reset``, a database that cannot be read is moved aside (the new name is
    returned and logged) and a new one is started.
    """
    _check_writable(state_dir)
    path = state_dir / DATABASE
    try:
        _open(path)
    except sqlite3.DatabaseError as exc:
        if not _unreadable(exc):
            raise exceptions.StateUnusable(
                f"the training records database {path} cannot be opened ({exc}); "
                "check its permissions, or choose another directory with --state-dir"
            ) from None
        if not reset:
            raise exceptions.StateUnusable(
                f"the training records database {path} cannot be read ({exc}); it is "
                "left as it is: start with --reset-state to move it aside and begin a new one"
            ) from None
    else:
        return None
    aside = move_aside(path)
    LOG.warning("The training records database could not be read; moved it to %s", aside)
    _open(path)
    return aside


def move_aside(path: Path) -> Path:
    """Rename the database (and its WAL files) to ``<name>.corrupt-<time>``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    os.replace(path, aside)
    return aside


def _check_writable(state_dir: Path) -> None:
    try:
        # Records hold arguments, inputs hold uploads: the server's user only.
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=state_dir):
            pass
    except OSError as exc:
        raise exceptions.StateUnusable(
            f"the state directory {state_dir} cannot be written ({exc.strerror or exc}); "
            "fix it, or choose another with --state-dir"
        ) from None


def _open(path: Path) -> None:
    if not path.exists():  # sqlite would make it (and its journals) 0644
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    store = Store(path)
    try:
        store.check()
    finally:
        store.close()


def _unreadable(exc: sqlite3.DatabaseError) -> bool:
    """Whether the file is not (or no longer) a database of ours, as opposed to a
    database that cannot be opened (permissions, locks)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return True  # "file is not a database", "database disk image is malformed"
    return str(exc).startswith(("no such", "table trainings has no"))
