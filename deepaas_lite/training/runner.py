"""Training processes, seen from the server: start one, wait for its end, stop it.

Each training is a ``multiprocessing`` process started with the spawn method (a fresh
interpreter: safe for CUDA or TensorFlow plugins) that leads its own process group.
Stopping it signals the whole group, so whatever the plugin started goes too.
Waiting polls without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from multiprocessing import reduction
from pathlib import Path
from typing import Any

from deepaas_lite.training import child

POLL_INTERVAL = 0.05
TERM_GRACE = 0.5

_SPAWN = multiprocessing.get_context("spawn")


_SIGNAL_HINTS: dict[int, str] = {
    signal.SIGKILL: " (out of memory?)",
    signal.SIGXFSZ: " (a file grew past the file size limit)",
}


def describe_exit(exitcode: int) -> str:
    """Why a training process ended without storing an outcome."""
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = _SIGNAL_HINTS.get(-exitcode, "")
        return f"Training process was killed by signal {name}{hint}"
    return f"Training process exited with code {exitcode}"


class TrainingProcess:
    """The process that runs one training."""

    def __init__(self, db_path: Path, uuid: str, log_fd: int) -> None:
        """``log_fd``: the write end of the log pipe, given to the process as its 1 and 2."""
        self.uuid = uuid
        self._process = _SPAWN.Process(
            target=child.main,
            args=(str(db_path), uuid, _InheritedFd(log_fd), os.getpid()),
            name=f"deepaas-training-{uuid}",
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> None:
        self._process.start()

    async def wait(self) -> int:
        """Wait for the process to end and return its exit code (``-N``: signal N).

        Processes it left behind in its group are killed first.
        """
        while not self._exited():
            await asyncio.sleep(POLL_INTERVAL)
        self._signal_group(signal.SIGKILL)
        self._process.join()
        exitcode = self._process.exitcode
        assert exitcode is not None
        return exitcode

    async def stop(self) -> None:
        """End the process and its group: SIGTERM, then SIGKILL after a short grace."""
        if self.pid is None:
            return
        self._signal_group(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TERM_GRACE
        while not self._exited() and loop.time() < deadline:
            await asyncio.sleep(POLL_INTERVAL / 5)
        self._signal_group(signal.SIGKILL)
        while not self._exited():
            await asyncio.sleep(POLL_INTERVAL / 5)

    def kill(self) -> None:
        """SIGKILL the group now (when there is no time to wait)."""
        if self.pid is not None:
            self._signal_group(signal.SIGKILL)

    def _exited(self) -> bool:
        """Whether the process has ended, without reaping it.

        The zombie keeps its pid, and so its group id, from being reused until
        ``wait`` has killed what is left of the group.
        """
        assert self.pid is not None
        try:
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.pid, flags) is not None
        except ChildProcessError:
            return True

    def _signal_group(self, signum: int) -> None:
        assert self.pid is not None
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            # No group yet: the process has not reached setsid().
            if signum == signal.SIGKILL:
                self._process.kill()
            else:
                self._process.terminate()


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
