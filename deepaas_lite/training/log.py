"""A training's log: what its processes print, through a pipe, kept to a size.

The training process and everything it starts write to a pipe (file descriptors 1
and 2); a thread of the server reads it into the log file. With a cap, the file
keeps the first half of the cap and, once more was printed, the latest output after
a line saying how much was cut::

    [... 123456 bytes cut ...]

The tail may grow to the other half of the cap; then it is cut back to the last
quarter. The file is replaced atomically, so it can be read at any moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import threading
from pathlib import Path

LOG = logging.getLogger(__name__)

CHUNK = 65536
DRAIN_GRACE = 2.0
_POLL = 0.2


class CappedLog:
    """A log file of at most ``max_bytes`` (0: no cap) plus the cut line. Blocking."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self._max = max_bytes
        self._head = max_bytes // 2
        self._keep = (max_bytes - self._head) // 2
        self._size = 0  # bytes in the file, cut line excluded
        self._cut = 0
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()

    @property
    def cut(self) -> int:
        """How many bytes were left out."""
        return self._cut

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._size += len(data)
        if self._max and self._size > self._max:
            self._compact()

    def close(self) -> None:
        self._file.close()

    def _compact(self) -> None:
        """Rewrite the file as its head, the cut line and the last quarter of the cap."""
        self._file.close()
        with open(self.path, "rb") as old:
            head = old.read(self._head)
            old.seek(-self._keep, os.SEEK_END)
            tail = old.read()
        self._cut += self._size - self._head - len(tail)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as new:
            new.write(head + self._marker(self._cut) + tail)
        os.replace(tmp, self.path)
        self._size = self._head + len(tail)
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115

    @staticmethod
    def _marker(cut: int) -> bytes:
        return f"\n[... {cut} bytes cut ...]\n".encode()


class LogPump:
    """A thread that copies a pipe into a ``CappedLog`` until every writer is gone."""

    def __init__(self, read_fd: int, log: CappedLog) -> None:
        self._fd = read_fd
        self._log = log
        self._stop = threading.Event()
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._thread = threading.Thread(target=self._run, name="deepaas-training-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def finish(self) -> None:
        """Wait for the end of the output; after a grace, stop reading anyway.

        (Output stays open while a process that escaped the training's group holds
        the pipe; it then gets EPIPE.)
        """
        try:
            await asyncio.wait_for(asyncio.shield(self._done), DRAIN_GRACE)
        except TimeoutError:
            self._stop.set()
            await self._done

    def _run(self) -> None:
        failed = False
        try:
            while True:
                ready, _, _ = select.select([self._fd], [], [], _POLL)
                if not ready:
                    if self._stop.is_set():
                        break
                    continue
                chunk = os.read(self._fd, CHUNK)
                if not chunk:
                    break
                try:
                    self._log.write(chunk)
                except (OSError, ValueError) as exc:  # a full disk; the file then closed
                    if not failed:
                        LOG.warning("Could not write the log %s: %s", self._log.path, exc)
                    failed = True
        finally:
            os.close(self._fd)
            with contextlib.suppress(OSError):
                self._log.close()
            loop = self._done.get_loop()
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_set_done, self._done)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
