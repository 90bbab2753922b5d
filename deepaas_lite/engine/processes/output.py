"""What a job's process prints: a thread reads its pipe and hands each chunk to the
job's sink (``JobSink.log``) until every writer of the pipe is gone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)

CHUNK = 65536
DRAIN_GRACE = 2.0
_POLL = 0.2


class OutputPump:
    """A thread that copies a pipe into ``write`` (a sink's ``log``), chunk by chunk."""

    def __init__(self, read_fd: int, write: Callable[[bytes], None], name: str) -> None:
        self._fd = read_fd
        self._write = write
        self._name = name
        self._stop = threading.Event()
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._thread = threading.Thread(target=self._run, name="deepaas-job-output", daemon=True)

    def start(self) -> None:
        self._thread.start()

    async def finish(self) -> None:
        """Wait for the end of the output; after a grace, stop reading anyway.

        (Output stays open while a process that escaped the job's group holds the
        pipe; it then gets EPIPE.)
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
                    self._write(chunk)
                except Exception as exc:  # a full disk: read on, or the job would block
                    if not failed:
                        LOG.warning("Could not write the log of %s: %s", self._name, exc)
                    failed = True
        finally:
            os.close(self._fd)
            loop = self._done.get_loop()
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_set_done, self._done)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
