"""Trainings in local processes: the local executor of trainings.

Each training is a child process (``children.py``) running ``training/child.py``. It
leads its own process group: stopping it signals the whole group, so whatever the
plugin started goes too, and once it has ended, what it left behind in its group is
killed before it is reaped (until then its zombie keeps the group id from being
reused).
"""

from __future__ import annotations

import os
from multiprocessing import reduction
from pathlib import Path
from typing import Any

from deepaas_lite.engine.children import SPAWN, Child
from deepaas_lite.engine.children import describe_exit as describe_child_exit
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training import child

TERM_GRACE = 0.5


def describe_exit(exitcode: int) -> str:
    """Why a training process ended without storing an outcome."""
    return describe_child_exit(exitcode, "Training process")


class LocalTrainings:
    """Runs each training in a local process of its own."""

    def run(self, db_path: Path, model: ModelWrapper, uuid: str, log_fd: int) -> TrainingProcess:
        return TrainingProcess(db_path, uuid, log_fd)

    def describe_exit(self, exitcode: int) -> str:
        return describe_exit(exitcode)


class TrainingProcess:
    """The process that runs one training."""

    def __init__(self, db_path: Path, uuid: str, log_fd: int) -> None:
        """``log_fd``: the write end of the log pipe, given to the process as its 1 and 2."""
        self.uuid = uuid
        self._child = Child(
            SPAWN.Process(
                target=child.main,
                args=(str(db_path), uuid, _InheritedFd(log_fd), os.getpid()),
                name=f"deepaas-training-{uuid}",
            ),
            group=True,
        )

    def start(self) -> None:
        self._child.start()

    async def wait(self) -> int:
        """Wait for the process to end and return its exit code (``-N``: signal N).

        Processes it left behind in its group are killed first.
        """
        await self._child.wait()
        self._child.kill()
        exitcode = self._child.reap()
        assert exitcode is not None
        return exitcode

    async def stop(self) -> None:
        """End the process and its group: SIGTERM, then SIGKILL after a short grace."""
        await self._child.stop(TERM_GRACE)

    def kill(self) -> None:
        """SIGKILL the group now (when there is no time to wait)."""
        self._child.kill()


class _InheritedFd:
    """A file descriptor the spawned process inherits (under the same number)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, ...]:
        # Only valid while multiprocessing pickles the process object for spawning.
        return (_detach, (reduction.DupFd(self.fd),))


def _detach(duplicate: Any) -> int:
    fd: int = duplicate.detach()
    return fd
