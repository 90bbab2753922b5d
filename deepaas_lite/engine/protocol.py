"""What the server asks of an executor: a ``Predictor`` for each model's predictions,
a ``JobExecutor`` for the jobs (trainings today), each one a ``JobRun`` reporting to a
``JobSink``.

A job is handed to the executor whole (``Job``): the plugin's arguments, its files
where this server can read them. The executor runs it where it likes (a local
process, a Ray task, a pod) and reports what happens through the sink: what the job
prints, its progress, and its ``Outcome``, last. It needs no shared disk and no pipe
to the server, and it knows nothing of records: whoever hands it the job (the
training package) keeps them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from deepaas_lite.model.wrapper import ModelWrapper

T = TypeVar("T")


class Predictor(Protocol):
    """Runs one model's predictions."""

    model: ModelWrapper

    @property
    def ready(self) -> bool: ...

    @property
    def reason(self) -> str | None:
        """Why it is not ready; ``None`` once it is."""
        ...

    async def start(self, warm: bool) -> None:
        """Load and warm; a failure is logged and kept as the reason, never raised."""
        ...

    async def predict(self, kwargs: Mapping[str, Any]) -> Any: ...

    async def close(self) -> None: ...


async def all_outputs(calls: list[Awaitable[T]]) -> list[T]:
    """Each call's output, the calls run together (a batch's rows: a predictor groups
    them into ``predict_batch`` calls when the plugin has one); once all have ended,
    the first error, in order, is raised."""
    if len(calls) == 1:
        return [await calls[0]]
    done = await asyncio.gather(*calls, return_exceptions=True)
    for outcome in done:
        if isinstance(outcome, BaseException):
            raise outcome
    return list(done)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Job:
    """One call of a model's plugin, run to its end by an executor.

    ``kind`` says which call (``calls.TRAINING``; what the job's process runs is in
    ``calls.run_job``). ``kwargs`` are the plugin's arguments; a file argument is an
    ``UploadedFile`` whose ``filename`` this server can read (an executor on another
    machine sends the content along).
    """

    uuid: str
    model_id: str
    kind: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """How logs and processes name it: ``training 16a3...``."""
        return f"{self.kind} {self.uuid}"


@dataclass(frozen=True)
class Outcome:
    """How a job's call ended: its ``output`` (as ``calls.run_job`` encodes it for the
    kind: a training's is JSON text), or the ``error`` message of what it raised."""

    output: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class JobSink(Protocol):
    """Where a running job's reports go. The executor calls each in the order they
    happened; ``outcome`` at most once, after the job's last progress.

    ``log`` is blocking (it may write a file) and is called off the event loop, from a
    thread of the executor; ``progress`` and ``outcome`` are awaited on the loop.
    """

    def log(self, data: bytes) -> None:
        """What the job (and the processes it started) printed, in chunks."""
        ...

    async def progress(self, fraction: float, message: str) -> None:
        """A ``report_progress`` call of the job."""
        ...

    async def outcome(self, outcome: Outcome) -> None:
        """How the call ended; a job that dies first reports none."""
        ...


class JobRun(Protocol):
    """One job where an executor runs it."""

    job: Job

    def start(self) -> None:
        """Start it (on the running event loop); raises when it cannot start."""
        ...

    async def wait(self) -> int:
        """Once it has ended and everything it reported has reached the sink: its exit
        code (0; ``-N``: ended by signal N). Cancelling the wait leaves the job as it is."""
        ...

    async def stop(self) -> None:
        """End it, gently first, then by force; returns once it has ended."""
        ...

    def kill(self) -> None:
        """End it by force now, without waiting (when there is no time to wait)."""
        ...


class JobExecutor(Protocol):
    """Where jobs run: local processes or a Ray cluster."""

    def run(self, model: ModelWrapper, job: Job, sink: JobSink) -> JobRun:
        """``job`` of ``model``, reporting to ``sink``; not started yet."""
        ...

    def describe_exit(self, job: Job, exitcode: int) -> str:
        """Why ``job``, ended with ``exitcode``, reported no outcome."""
        ...

    async def close(self) -> None:
        """Once no job of it runs any more: let go of what it keeps (processes started
        ahead)."""
        ...
