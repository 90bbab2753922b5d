"""Child processes of the server, for every executor that starts them.

A child is a ``multiprocessing`` process started with the spawn method (a fresh
interpreter: safe for CUDA or TensorFlow plugins). The event loop learns of its end
from a pidfd (Linux; elsewhere a thread blocked in ``waitid``), without polling and
without reaping it: until ``reap``, the process stays a zombie, which keeps its pid,
and so its process group id, from being reused. A child that leads its own group
(``group=True``: a training calls ``setsid()``) is signalled as a group, so whatever it
started goes too.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess

SPAWN = multiprocessing.get_context("spawn")

_SIGNAL_HINTS: dict[int, str] = {
    signal.SIGKILL: " (out of memory?)",
    signal.SIGXFSZ: " (a file grew past the file size limit)",
}


def describe_exit(exitcode: int | None, what: str | None = None) -> str:
    """How a process ended: a clause (``signal 9, SIGKILL``; ``exit code 7``), or with
    ``what`` a sentence (``<what> was killed by signal SIGKILL (out of memory?)``;
    ``<what> exited with code 7``)."""
    if exitcode is None:
        return "still running" if what is None else f"{what} is still running"
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        if what is None:
            return f"signal {-exitcode}, {name}"
        return f"{what} was killed by signal {name}{_SIGNAL_HINTS.get(-exitcode, '')}"
    return f"exit code {exitcode}" if what is None else f"{what} exited with code {exitcode}"


class Child:
    """One spawned process, its end seen by the event loop."""

    def __init__(self, process: BaseProcess, *, group: bool = False) -> None:
        """``group``: the process calls ``setsid()``; signals go to its whole group."""
        self.process = process
        self.group = group
        self.pid: int | None = None
        self._exited: asyncio.Future[None] | None = None
        self._reaped = False
        self._code: int | None = None

    @property
    def exited(self) -> asyncio.Future[None]:
        """Done once the process has ended (whether reaped or not)."""
        assert self._exited is not None, "start() first"
        return self._exited

    @property
    def alive(self) -> bool:
        return self._exited is not None and not self._exited.done()

    def start(self) -> None:
        """Start the process and watch for its end (on the running event loop)."""
        loop = asyncio.get_running_loop()
        self.process.start()
        self.pid = self.process.pid
        assert self.pid is not None
        self._exited = loop.create_future()
        try:
            watch = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # no pidfd: a thread waits instead
            threading.Thread(
                target=_wait_in_thread, args=(self.pid, loop, self._ended), daemon=True
            ).start()
            return
        loop.add_reader(watch, self._on_pidfd, loop, watch)

    async def wait(self, timeout: float | None = None) -> bool:
        """Whether the process ended within ``timeout`` seconds (``None``: no limit)."""
        try:
            await asyncio.wait_for(asyncio.shield(self.exited), timeout)
        except TimeoutError:
            return False
        return True

    def terminate(self) -> None:
        """SIGTERM (to its group if it leads one)."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL now (to its group if it leads one)."""
        self._signal(signal.SIGKILL)

    async def stop(self, grace: float) -> None:
        """SIGTERM, up to ``grace`` seconds to end, then SIGKILL (a group gets it in any
        case, for what its leader left behind); returns once the process has ended."""
        if self.pid is None or self._reaped:
            return
        self.terminate()
        await self.wait(grace)
        self.kill()
        await self.wait()

    def reap(self) -> int | None:
        """Release the ended process; its exit code (``-N``: signal N). Only once it has
        ended (``exited``): then it does not block."""
        if not self._reaped:
            self._reaped = True
            with contextlib.suppress(ValueError):  # already closed
                self.process.join()
                self._code = self.process.exitcode
                self.process.close()
        return self._code

    def _signal(self, signum: int) -> None:
        if self.pid is None or self._reaped:
            return
        if self.group:
            try:
                os.killpg(self.pid, signum)
                return
            except ProcessLookupError:  # no group yet: it has not reached setsid()
                pass
        with contextlib.suppress(ValueError):  # already closed
            if signum == signal.SIGKILL:
                self.process.kill()
            else:
                self.process.terminate()

    def _on_pidfd(self, loop: asyncio.AbstractEventLoop, watch: int) -> None:
        loop.remove_reader(watch)
        os.close(watch)
        self._ended()

    def _ended(self) -> None:
        if self._exited is not None and not self._exited.done():
            self._exited.set_result(None)


def _wait_in_thread(pid: int, loop: asyncio.AbstractEventLoop, ended: Callable[[], None]) -> None:
    """Block until ``pid`` has ended, without reaping it; then tell the loop."""
    with contextlib.suppress(ChildProcessError):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    with contextlib.suppress(RuntimeError):  # the loop is closed
        loop.call_soon_threadsafe(ended)
