"""Jobs in local processes: the local executor of jobs (a ``JobExecutor``).

Each job is a child process (``children.py``) running ``job_main.py``. What it prints
comes through a pipe (``output.py``), what it reports (progress, then its outcome)
through a socket; both reach the job's sink here, in the order they happened. It
leads its own process group: stopping it signals the whole group, so whatever the
plugin started goes too, and once it has ended, what it left behind in its group is
killed before it is reaped (until then its zombie keeps the group id from being
reused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from multiprocessing import reduction
from typing import Any

from deepaas_lite.engine import wire
from deepaas_lite.engine.children import SPAWN, Child
from deepaas_lite.engine.children import describe_exit as describe_child_exit
from deepaas_lite.engine.processes import job_main
from deepaas_lite.engine.processes.output import DRAIN_GRACE, OutputPump
from deepaas_lite.engine.protocol import Job, JobSink
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

TERM_GRACE = 0.5


def describe_exit(job: Job, exitcode: int) -> str:
    """Why a job's process ended without reporting an outcome."""
    return describe_child_exit(exitcode, f"{job.kind.capitalize()} process")


class LocalJobs:
    """Runs each job in a local process of its own."""

    def run(self, model: ModelWrapper, job: Job, sink: JobSink) -> JobProcess:
        return JobProcess(job, sink)

    def describe_exit(self, job: Job, exitcode: int) -> str:
        return describe_exit(job, exitcode)


class JobProcess:
    """The process that runs one job."""

    def __init__(self, job: Job, sink: JobSink) -> None:
        self.job = job
        self._sink = sink
        self._child: Child | None = None
        self._done: asyncio.Task[int] | None = None

    def start(self) -> None:
        read_fd, write_fd = os.pipe()
        ours, theirs = socket.socketpair()
        try:
            child = Child(
                SPAWN.Process(
                    target=job_main.main,
                    args=(self.job, _InheritedFd(write_fd), theirs, os.getpid()),
                    name=f"deepaas-{self.job.kind}-{self.job.uuid}",
                ),
                group=True,
            )
            child.start()
        except BaseException:
            os.close(read_fd)
            ours.close()
            raise
        finally:
            os.close(write_fd)
            theirs.close()
        self._child = child
        output = OutputPump(read_fd, self._sink.log, self.job.name)
        output.start()
        self._done = asyncio.get_running_loop().create_task(
            self._supervise(child, output, ours), name=f"deepaas-{self.job.kind}-{self.job.uuid}"
        )

    async def wait(self) -> int:
        """Once the process has ended, its output and reports are all in the sink: its
        exit code (``-N``: signal N). Processes it left behind in its group are killed
        first."""
        assert self._done is not None, "start() first"
        return await asyncio.shield(self._done)

    async def stop(self) -> None:
        """End the process and its group: SIGTERM, then SIGKILL after a short grace."""
        if self._child is not None:
            await self._child.stop(TERM_GRACE)

    def kill(self) -> None:
        """SIGKILL the group now (when there is no time to wait)."""
        if self._child is not None:
            self._child.kill()

    async def _supervise(self, child: Child, output: OutputPump, sock: socket.socket) -> int:
        reader, writer = await asyncio.open_connection(sock=sock)
        reports = asyncio.ensure_future(self._read_reports(reader, writer))
        try:
            await child.wait()
            child.kill()
            exitcode = child.reap()
            assert exitcode is not None
            await output.finish()
            # Its reports are all read by now, unless a process it started holds the
            # socket open: then reading stops (a report being kept is kept first).
            try:
                await asyncio.wait_for(asyncio.shield(reports), DRAIN_GRACE)
            except TimeoutError:
                writer.close()
                await reports
            return exitcode
        finally:
            if not reports.done():
                reports.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reports
            writer.close()

    async def _read_reports(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                kind, value = await wire.read(reader)
            except (EOFError, OSError):
                return
            except Exception:  # a report that does not unpickle here
                LOG.exception("The reports of %s could not be read", self.job.name)
                writer.close()  # its next report fails, rather than blocking it
                return
            try:
                if kind == job_main.PROGRESS:
                    await self._sink.progress(*value)
                elif kind == job_main.OUTCOME:
                    await self._sink.outcome(value)
            except Exception:
                LOG.exception("The report of %s could not be kept", self.job.name)


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
