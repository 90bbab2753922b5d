"""Jobs in local processes: the local executor of jobs (a ``JobExecutor``).

Each job runs in a child process of its own (``children.py``) running ``job_main.py``,
used once. What it prints comes through a pipe (``output.py``), what it reports
(progress, then its outcome) through a socket; both reach the job's sink here, in
the order they happened. It leads its own process group: stopping it signals the
whole group, so whatever the plugin started goes too, and once it has ended, what it
left behind in its group is killed before it is reaped (until then its zombie keeps
the group id from being reused).

With ``standby``, once a model's job has started (its plugin loaded: the next process
does not compete with that), a process for its next job is started ahead and loads
the plugin while nobody waits: that job starts at once (``_Spawned`` is such a
process, waiting for its job). Without, each job's process is started when the job
is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
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
    """Runs each job in a local process of its own; with ``standby``, one started
    ahead for each model that has run a job."""

    def __init__(self, standby: bool = False) -> None:
        self.standby = standby
        self._ahead: dict[str, _Spawned] = {}
        self._closing = False

    def run(self, model: ModelWrapper, job: Job, sink: JobSink) -> JobProcess:
        return JobProcess(job, sink, self._take, self._prepare)

    def describe_exit(self, job: Job, exitcode: int) -> str:
        return describe_exit(job, exitcode)

    async def close(self) -> None:
        """End the processes started ahead (no job is lost: they had none)."""
        self._closing = True
        ahead, self._ahead = list(self._ahead.values()), {}
        await asyncio.gather(*(spawned.discard() for spawned in ahead))

    def _take(self, model_id: str) -> _Spawned:
        """A process for ``model_id``'s job: the one started ahead, else a new one."""
        spawned = self._ahead.pop(model_id, None)
        if spawned is None or not spawned.child.alive:
            spawned = _Spawned(model_id)
        return spawned

    def _prepare(self, model_id: str) -> None:
        """With ``standby``: start a process ahead for ``model_id``'s next job."""
        if not self.standby or self._closing or model_id in self._ahead:
            return
        try:
            self._ahead[model_id] = _Spawned(model_id, ahead=self._forget)
        except Exception as exc:  # no job waits for it: only log
            LOG.warning("Model '%s': no process could be started ahead: %r", model_id, exc)

    def _forget(self, gone: _Spawned) -> None:
        """A process started ahead ended before it had a job: reap it."""
        if self._ahead.get(gone.model_id) is gone:
            del self._ahead[gone.model_id]
        LOG.warning(
            "Model '%s': the process started ahead for its next job ended (%s)",
            gone.model_id,
            describe_child_exit(gone.child.reap()),
        )
        gone.close()


class _Spawned:
    """A started job process of ``model_id``, loading its plugin, waiting for its job.

    ``ahead``: called if it ends before it is given a job.
    """

    def __init__(self, model_id: str, ahead: Callable[[_Spawned], None] | None = None) -> None:
        self.model_id = model_id
        read_fd, write_fd = os.pipe()
        ours, theirs = socket.socketpair()
        try:
            self.child = Child(
                SPAWN.Process(
                    target=job_main.main,
                    args=(model_id, _InheritedFd(write_fd), theirs, os.getpid()),
                    name=f"deepaas-job-{model_id}",
                ),
                group=True,
            )
            self.child.start()
        except BaseException:
            os.close(read_fd)
            ours.close()
            raise
        finally:
            os.close(write_fd)
            theirs.close()
        self.output_fd = read_fd
        self.sock = ours
        self._given = False
        if ahead is not None:
            self.child.exited.add_done_callback(lambda _: None if self._given else ahead(self))

    def given(self) -> None:
        """It has its job: its end is its job's, no longer ours."""
        self._given = True

    def close(self) -> None:
        """Close the server's ends of its pipe and socket."""
        self.sock.close()
        with contextlib.suppress(OSError):
            os.close(self.output_fd)

    async def discard(self) -> None:
        """End it without a job, and reap it."""
        self._given = True
        self.sock.close()  # it exits once it has loaded the plugin
        if not await self.child.wait(TERM_GRACE):
            await self.child.stop(TERM_GRACE)
        self.child.kill()  # what it may have left in its group
        self.child.reap()
        with contextlib.suppress(OSError):
            os.close(self.output_fd)


class JobProcess:
    """The process that runs one job; ``take`` gives it (started, perhaps ahead), and
    ``started(model_id)`` is called once the job has started in it."""

    def __init__(
        self,
        job: Job,
        sink: JobSink,
        take: Callable[[str], _Spawned],
        started: Callable[[str], None],
    ) -> None:
        self.job = job
        self._sink = sink
        self._take = take
        self._started = started
        self._child: Child | None = None
        self._done: asyncio.Task[int] | None = None

    def start(self) -> None:
        frame = wire.dumps(self.job)
        spawned: _Spawned = self._take(self.job.model_id)
        spawned.given()
        self._child = spawned.child
        output = OutputPump(spawned.output_fd, self._sink.log, self.job.name)
        output.start()
        self._done = asyncio.get_running_loop().create_task(
            self._supervise(spawned, output, frame),
            name=f"deepaas-{self.job.kind}-{self.job.uuid}",
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

    async def _supervise(self, spawned: _Spawned, output: OutputPump, frame: bytes) -> int:
        child = spawned.child
        reader, writer = await asyncio.open_connection(sock=spawned.sock)
        reports = asyncio.ensure_future(self._read_reports(reader, writer))
        try:
            writer.write(frame)  # its job; it reads it once its plugin is loaded
            with contextlib.suppress(ConnectionError):  # it died: its exit tells
                await writer.drain()
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
                if kind == job_main.STARTED:
                    self._started(self.job.model_id)
                elif kind == job_main.PROGRESS:
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
