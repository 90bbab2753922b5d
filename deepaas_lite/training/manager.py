"""The job managers: the one object the web layer talks to about a kind of job.

``JobManager`` keeps one kind's records (``records.py``, on the store's thread through
``database.py``), copied inputs and log files in the state directory, and hands each
job to an executor of the engine as a ``Job``; what the job reports reaches the record
and the log through a ``RecordSink`` (``sink.py``). ``TrainingManager`` is the
trainings' (its rules: only models with ``train``, and the model versions trainings
make). Their methods, for ``web/train.py``: ``submit`` (the record, pending or
running), ``list`` (oldest first), ``get``, ``cancel`` (the kind's ``finished`` error,
``TrainingFinished``, once ended), ``delete`` (cancel, or remove an ended one with its
files), ``log_path`` and ``status_counts`` (no waiting, for metrics); ``start`` and
``close`` run at the server's start and stop. Records are plain dicts in the DEEPaaS
shape (``Record.as_dict``). Errors: ModelNotFound, the kind's not found, finished and
queue full errors (``TrainingNotFound``, ``TrainingFinished``, ``TrainingQueueFull``
when ``queue_max`` are pending, over all models), NotImplementedByModel,
StorageFailed.

Scheduling: at most ``workers`` jobs run at once, over all models; the others wait as
``pending`` and start in submission order (pending jobs of a model that is not served
wait until it is). A job of a model with a timeout in ``timeouts`` (seconds) is
stopped after it and ends in ``error``. At start, jobs that were running are
``interrupted`` and pending ones start again; at close, running ones are stopped and
``interrupted``, and no process is left behind. Store operations run on the store's
own thread, file copies and removals in threads: the event loop never waits on the
disk. A job's end is recorded even when the disk is full for a while: the write is
retried until it succeeds, and the queue then goes on.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import contextvars
import logging
import shutil
import sqlite3
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from deepaas_lite import exceptions
from deepaas_lite.engine.processes.jobs import LocalJobs
from deepaas_lite.engine.protocol import Job, JobExecutor, JobRun
from deepaas_lite.logs import REQUEST_ID
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training import inputs, records
from deepaas_lite.training.database import Database
from deepaas_lite.training.log import CappedLog
from deepaas_lite.training.records import TRAININGS, Kind, Record, Status, Store
from deepaas_lite.training.sink import RecordSink
from deepaas_lite.training.state import DATABASE
from deepaas_lite.training.versions import Versions

LOG = logging.getLogger(__name__)

MIB = 1024 * 1024
RETRY_FIRST = 0.05
RETRY_MAX = 5.0

T = TypeVar("T")


class JobManager:
    """Jobs of one ``kind`` for the served models: records, scheduling, runs.

    A kind's own rules are its hooks: which models may run it (``_check_model``), what
    its records show besides (``_annotate``), and what happens to its other state at
    start, when a record ends, before and after records go (``_clean``, ``_ended``,
    ``_removable``, ``_removed``). ``_sink`` says where a job's reports go.
    """

    def __init__(
        self,
        kind: Kind,
        models: Mapping[str, ModelWrapper],
        state_dir: Path,
        workers: int = 1,
        history: int = 100,
        *,
        queue_max: int = 0,
        timeouts: Mapping[str, float] | None = None,
        log_max_bytes: int = 50 * MIB,
        executor: JobExecutor | None = None,
    ) -> None:
        """``executor``: where the jobs run (default: local processes)."""
        if workers < 1 or history < 1:
            raise ValueError("workers and history must be at least 1")
        self.kind = kind
        self._models = models
        self._state_dir = Path(state_dir)
        self._workers = workers
        self._history = history
        self._queue_max = queue_max
        self._timeouts = {key: value for key, value in (timeouts or {}).items() if value}
        self._log_max_bytes = log_max_bytes
        self._executor: JobExecutor = LocalJobs() if executor is None else executor
        self._db_: Database | None = None
        self._running: dict[str, tuple[JobRun, asyncio.Task[None]]] = {}
        self._filling = asyncio.Lock()
        self._retrying: set[asyncio.Task[Any]] = set()
        self._closing = False

    # Lifecycle.

    async def start(self) -> None:
        """Open the store; jobs that were running are now interrupted.

        Pending jobs start again, in submission order.
        """
        await asyncio.to_thread(self._make_dirs)
        database = Database(self._state_dir / DATABASE, self.kind)
        await database.open()
        self._db_ = database
        interrupted = await database.write(Store.interrupt_running)
        if interrupted:
            LOG.warning("%d %s(s) were interrupted by a stop", len(interrupted), self.kind.noun)
        pending = {record.uuid for record in await database.call(Store.pending)}
        await asyncio.to_thread(self._remove_stale_inputs, pending)
        await self._clean(pending)
        for model_id in self._models:
            await self._prune(model_id)
        await self._fill_slots()

    async def close(self) -> None:
        """Stop running jobs (now interrupted); pending ones stay pending."""
        self._closing = True
        for retry in self._retrying:
            retry.cancel()
        if self._db_ is None:
            return
        running = list(self._running.values())
        for run, _ in running:
            uuid = run.job.uuid
            try:
                if await self._db.write(Store.finish, uuid, Status.INTERRUPTED):
                    LOG.info("%s '%s' interrupted: the server is stopping", self.kind.title, uuid)
            except sqlite3.Error as exc:
                LOG.error("%s '%s' could not be marked interrupted: %s", self.kind.title, uuid, exc)
        await asyncio.gather(*(run.stop() for run, _ in running))
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)
        await self._executor.close()
        await self._db.close()
        self._db_ = None

    # The interface.

    async def submit(
        self,
        model_id: str,
        args: Mapping[str, Any],
        request_id: str | None = None,
        callback: str | None = None,
        call: str | None = None,
    ) -> dict[str, Any]:
        """Store a new job, its files copied; it starts when a slot is free.

        ``request_id`` (of the request that submitted it), ``callback`` (where the
        record goes when it ends, for ``_ended``) and ``call`` (the ``Job.kind`` it
        runs as, when not the kind's own noun) are kept on the record.

        On any failure nothing is left behind: no copied file, no record.
        """
        self._check_model(self._model(model_id))
        self._check_callback(callback)
        await self._db.call(Store.check_queue, self._queue_max)
        uuid = uuidlib.uuid4().hex
        directory = self._inputs_dir(uuid)
        try:
            kwargs = await _finish_in_thread(inputs.keep_files, args, directory)
            await self._db.write(
                Store.add,
                uuid,
                model_id,
                records.to_json(inputs.shown(args)),
                inputs.pack(kwargs),
                self._queue_max,
                request_id,
                callback,
                call,
            )
        except BaseException as exc:
            await _finish_in_thread(shutil.rmtree, directory, True)
            if isinstance(exc, OSError | sqlite3.OperationalError):
                LOG.error("%s of '%s' not stored: %s", self.kind.title, model_id, exc)
                raise exceptions.StorageFailed(
                    f"The {self.kind.noun} could not be stored: {_reason(exc)}"
                ) from exc
            raise
        LOG.info("%s '%s' of '%s' submitted", self.kind.title, uuid, model_id)
        try:
            await self._fill_slots()
        except Exception as exc:
            # Stored, so not an error: it starts once the store works again.
            LOG.warning("Pending %s could not start (%s); retrying", self.kind.table, _reason(exc))
            self._retrying.add(
                retry := asyncio.create_task(
                    self._until_done(f"start pending {self.kind.table}", self._fill_slots)
                )
            )
            retry.add_done_callback(self._retrying.discard)
        return (await self._record(model_id, uuid)).as_dict()

    async def list(self, model_id: str) -> builtins.list[dict[str, Any]]:
        """A model's records, oldest first."""
        self._model(model_id)
        return [
            self._annotate(model_id, record.as_dict())
            for record in await self._db.call(Store.of_model, model_id)
        ]

    async def get(self, model_id: str, uuid: str) -> dict[str, Any]:
        return self._annotate(model_id, (await self._record(model_id, uuid)).as_dict())

    async def cancel(self, model_id: str, uuid: str) -> dict[str, Any]:
        """Cancel a pending or running job; its processes are gone on return."""
        record = await self._record(model_id, uuid)
        if not await self._db.write(Store.finish, uuid, Status.CANCELLED):
            raise self.kind.finished(
                f"{self.kind.title} '{uuid}' has already ended ({record.status})"
            )
        LOG.info("%s '%s' of '%s' cancelled", self.kind.title, uuid, model_id)
        if uuid in self._running:
            run, task = self._running[uuid]
            await run.stop()
            await asyncio.shield(task)
        else:
            await asyncio.to_thread(shutil.rmtree, self._inputs_dir(uuid), True)
            await self._prune(model_id)
        return await self.get(model_id, uuid)

    async def delete(self, model_id: str, uuid: str) -> dict[str, Any]:
        """What ``DELETE`` means, as in DEEPaaS: a pending or running job is cancelled
        (its record kept, ``cancelled``); an ended one is removed with its log and
        inputs. Returns the record as it was last. A job whose record has ended while
        what follows its end (``_ended``: a training's version made current) is still
        under way is judged once that is done.
        """
        try:
            return await self.cancel(model_id, uuid)
        except self.kind.finished:
            pass
        if uuid in self._running:
            await asyncio.shield(self._running[uuid][1])
        record = await self._record(model_id, uuid)
        await self._removable(model_id, uuid)
        if not await self._db.write(Store.remove, uuid):
            raise self._not_found(model_id, uuid)
        await asyncio.to_thread(self._remove_files, [uuid])
        shown = self._annotate(model_id, record.as_dict())
        await self._removed(model_id, [uuid])
        return shown

    async def log_path(self, model_id: str, uuid: str) -> Path:
        """The file holding what the job printed (it may not exist yet)."""
        await self._record(model_id, uuid)
        return self._log_path(uuid)

    def status_counts(self, model_id: str) -> dict[Status, int]:
        """How many of a model's jobs are in each status (as of the last change)."""
        if self._db_ is None:
            return {}
        return dict(self._db_.status_counts.get(model_id, {}))

    # Scheduling.

    async def _fill_slots(self) -> None:
        """Start pending jobs, oldest first, while there are free slots."""
        async with self._filling:
            if self._closing:
                return
            free = self._workers - len(self._running)
            if free <= 0:
                return
            for record in (await self._db.call(Store.pending, list(self._models)))[:free]:
                if await self._db.write(Store.start, record.uuid):
                    await self._launch(record)

    async def _launch(self, record: Record) -> None:
        uuid = record.uuid
        title = self.kind.title
        sink: RecordSink | None = None
        try:
            kwargs = inputs.unpack(await self._db.call(Store.kwargs, uuid))
            job = Job(uuid, record.model_id, record.call or self.kind.noun, kwargs)
            sink = await self._sink(record)
            run = self._executor.run(self._models[record.model_id], job, sink)
            run.start()
        except Exception as exc:
            LOG.exception("%s '%s' could not start", title, uuid)
            if sink is not None:
                await asyncio.to_thread(sink.close)
            message = f"{title} process failed to start: {_reason(exc)}"
            await self._until_done(
                f"record that {self.kind.noun} '{uuid}' could not start",
                lambda: self._db.write(Store.finish, uuid, Status.ERROR, message),
            )
            return
        LOG.info("%s '%s' of '%s' started", title, uuid, record.model_id)
        # Its log lines name the request that submitted it, not the one running now.
        context = contextvars.copy_context()
        context.run(REQUEST_ID.set, record.request_id)
        task = asyncio.create_task(self._supervise(run, sink), context=context)
        self._running[uuid] = (run, task)

    async def _supervise(self, run: JobRun, sink: RecordSink) -> None:
        """Wait for a job's run; record how it ended; start the next one.

        Nothing here may end the task early: whatever fails, the record ends and the
        queue goes on.
        """
        job = run.job
        title = self.kind.title
        exitcode: int | None = None
        reason: str | None = None
        try:
            exitcode, reason = await self._wait(run)
        except Exception as exc:
            LOG.exception("%s '%s': supervising its process failed", title, job.uuid)
            run.kill()
            reason = f"{title} supervision failed: {_reason(exc)}"
        try:
            await asyncio.to_thread(sink.close)
            # The inputs go first, so that a finished record never has its files left.
            await asyncio.to_thread(shutil.rmtree, self._inputs_dir(job.uuid), True)
        except Exception as exc:
            LOG.exception("%s '%s': cleaning up after it failed", title, job.uuid)
            reason = reason or f"{title} supervision failed: {_reason(exc)}"
        await self._until_done(
            f"record the end of {self.kind.noun} '{job.uuid}'",
            lambda: self._end(job, exitcode, reason),
        )
        try:
            ended = await self._db.call(Store.get, job.uuid)
            if ended is not None:
                await self._ended(ended)
        except Exception:
            LOG.exception("%s '%s': what follows its end failed", title, job.uuid)
        del self._running[job.uuid]
        await self._until_done(f"start pending {self.kind.table}", self._fill_slots)
        try:
            await self._prune(job.model_id)
        except Exception:
            LOG.exception("Pruning the %s of '%s' failed", self.kind.table, job.model_id)

    async def _wait(self, run: JobRun) -> tuple[int, str | None]:
        """The run's exit code, and why it was stopped (its timeout), if it was."""
        timeout = self._timeouts.get(run.job.model_id)
        try:
            return await asyncio.wait_for(run.wait(), timeout), None
        except TimeoutError:
            title = self.kind.title
            LOG.warning("%s '%s' exceeded its %g s timeout", title, run.job.uuid, timeout)
            await run.stop()
            return await run.wait(), f"{title} exceeded the {timeout:g} s timeout"

    async def _end(self, job: Job, exitcode: int | None, reason: str | None) -> None:
        """Give a job whose run is gone its final status, unless it has one.

        The server's half of the handshake told in records.py (above ``_SCHEMA``): the
        process stored its outcome (``done``/``error``) or died first; its output is
        now all in the log and its inputs are removed, so the record may end. With a
        ``reason`` (the server stopped it at its timeout, or supervising it failed) it
        ends in ``error`` with that reason, whatever the outcome; otherwise the store
        turns the outcome into the status, or, with none, ends it in ``error`` saying
        how the process exited. A record already ended (a cancel, a stop) is left as it
        is, and nothing is logged for it.
        """
        uuid = job.uuid
        if reason is None:
            code = exitcode if exitcode is not None else 1
            exit_message = self._executor.describe_exit(job, code)
            ended = await self._db.write(Store.finish_from_outcome, uuid, exit_message)
            if ended is None:
                return
            status, message = ended.status, ended.message
        else:
            if not await self._db.write(Store.finish, uuid, Status.ERROR, reason):
                return
            status, message = Status.ERROR, reason
        if status is Status.ERROR:
            LOG.warning("%s '%s' ended in error: %s", self.kind.title, uuid, message)
        else:
            LOG.info("%s '%s': %s", self.kind.title, uuid, status)

    async def _until_done(self, what: str, action: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``action`` until it succeeds, waiting longer after each failure.

        While the server closes, one failure is the end (logged).
        """
        delay = RETRY_FIRST
        while True:
            try:
                return await action()
            except Exception as exc:
                if self._closing:
                    LOG.error("Could not %s: %s", what, _reason(exc))
                    return None
                LOG.warning("Could not %s (%s); retrying in %g s", what, _reason(exc), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def _prune(self, model_id: str) -> None:
        """Forget a model's ended jobs beyond the newest ``history``, and files."""
        uuids = await self._db.write(Store.prune, model_id, self._history)
        if uuids:
            await asyncio.to_thread(self._remove_files, uuids)
            await self._removed(model_id, uuids)

    # Lookups.

    @property
    def _db(self) -> Database:
        if self._db_ is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._db_

    def _model(self, model_id: str) -> ModelWrapper:
        try:
            return self._models[model_id]
        except KeyError:
            raise exceptions.ModelNotFound(f"Model '{model_id}' not found") from None

    async def _record(self, model_id: str, uuid: str) -> Record:
        self._model(model_id)
        record = await self._db.call(Store.get, uuid)
        if record is None or record.model_id != model_id:
            raise self._not_found(model_id, uuid)
        return record

    def _not_found(self, model_id: str, uuid: str) -> exceptions.DeepaasError:
        return self.kind.not_found(f"{self.kind.title} '{uuid}' of model '{model_id}' not found")

    # The kind's own rules (none here).

    def _check_model(self, model: ModelWrapper) -> None:
        """Raise when ``model`` cannot run this kind of job."""

    def _check_callback(self, callback: str | None) -> None:
        """Raise ``InvalidArguments`` when ``callback`` may not be called."""
        if callback is not None:
            raise exceptions.InvalidArguments(
                {"callback": [f"A {self.kind.noun} takes no callback"]}
            )

    def _annotate(self, model_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """A record as it is answered."""
        return record

    async def _sink(self, record: Record) -> RecordSink:
        """Where a job's reports go: its record, and its log file."""
        log = await asyncio.to_thread(CappedLog, self._log_path(record.uuid), self._log_max_bytes)
        return RecordSink(self._db, record.uuid, log, self._until_done)

    async def _clean(self, pending: set[str]) -> None:
        """At start: only the ``pending`` jobs will run again."""

    async def _ended(self, record: Record) -> None:
        """A job's record has ended (as ``record`` shows)."""

    async def _removable(self, model_id: str, uuid: str) -> None:
        """Raise when an ended job's record may not be removed."""

    async def _removed(self, model_id: str, uuids: builtins.list[str]) -> None:
        """Ended jobs' records are gone (deleted, or beyond the history)."""

    # Files (blocking: called in threads).

    def _files(self) -> Path:
        return self._state_dir / self.kind.files

    def _log_path(self, uuid: str) -> Path:
        return self._files() / "logs" / f"{uuid}.log"

    def _inputs_dir(self, uuid: str) -> Path:
        return self._files() / "inputs" / uuid

    def _make_dirs(self) -> None:
        for name in ("logs", "inputs"):
            (self._files() / name).mkdir(parents=True, exist_ok=True)

    def _remove_files(self, uuids: Iterable[str]) -> None:
        for uuid in uuids:
            self._log_path(uuid).unlink(missing_ok=True)
            shutil.rmtree(self._inputs_dir(uuid), ignore_errors=True)

    def _remove_stale_inputs(self, keep: set[str]) -> None:
        """Remove the copied files of jobs that will not run again."""
        for directory in (self._files() / "inputs").iterdir():
            if directory.name not in keep:
                shutil.rmtree(directory, ignore_errors=True)


class TrainingManager(JobManager):
    """The trainings of the served models; a training that ends ``done`` having written
    a model version makes it current (``versions``)."""

    def __init__(
        self,
        models: Mapping[str, ModelWrapper],
        state_dir: Path,
        workers: int = 1,
        history: int = 100,
        *,
        queue_max: int = 0,
        timeouts: Mapping[str, float] | None = None,
        log_max_bytes: int = 50 * MIB,
        executor: JobExecutor | None = None,
        versions: Versions | None = None,
    ) -> None:
        """``executor``: where the trainings run (default: local processes);
        ``versions``: what trainings make of the model store."""
        super().__init__(
            TRAININGS,
            models,
            state_dir,
            workers,
            history,
            queue_max=queue_max,
            timeouts=timeouts,
            log_max_bytes=log_max_bytes,
            executor=executor,
        )
        self.versions = Versions(models) if versions is None else versions

    def _check_model(self, model: ModelWrapper) -> None:
        if not model.can_train:
            raise exceptions.NotImplementedByModel(f"Model '{model.id}' does not implement train")

    def _annotate(self, model_id: str, record: dict[str, Any]) -> dict[str, Any]:
        return self.versions.annotate(model_id, record)

    async def _clean(self, pending: set[str]) -> None:
        await self.versions.clean(pending)

    async def _ended(self, record: Record) -> None:
        await self.versions.ended(record.model_id, record.uuid, record.status)

    async def _removable(self, model_id: str, uuid: str) -> None:
        await self.versions.removable(model_id, uuid)

    async def _removed(self, model_id: str, uuids: builtins.list[str]) -> None:
        await self.versions.remove(model_id, uuids)


async def _finish_in_thread(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a thread; a cancelled caller still waits for its end.

    (A copy that went on after the caller left could not be cleaned up.)
    """
    task = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
