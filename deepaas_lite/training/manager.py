"""The training manager: the one object the web layer talks to about trainings.

It keeps the records (``records.py``, on the store's thread through ``database.py``),
the copied inputs and the log files in the state directory, and hands each training
to an executor of the engine as a ``Job``; what the job reports reaches the record and
the log through a ``RecordSink`` (``sink.py``). Its methods, for ``web/train.py``:
``submit`` (the record, pending or running), ``list`` (oldest first), ``get``,
``cancel`` (``TrainingFinished`` once ended), ``delete`` (cancel, or remove an ended
one with its files), ``log_path`` and ``status_counts`` (no waiting, for metrics);
``start`` and ``close`` run at the server's start and stop. Records are plain dicts
in the DEEPaaS shape (``Training.as_dict``). Errors: ModelNotFound, TrainingNotFound,
TrainingFinished, NotImplementedByModel, TrainingQueueFull (``queue_max`` trainings
pending, over all models), StorageFailed.

Scheduling: at most ``workers`` trainings run at once, over all models; the others
wait as ``pending`` and start in submission order (pending trainings of a model that
is not served wait until it is). A training of a model with a timeout in ``timeouts``
(seconds) is stopped after it and ends in ``error``. At start, trainings that were
running are ``interrupted`` and pending ones start again; at close, running ones are
stopped and ``interrupted``, and no process is left behind. Store operations run on
the store's own thread, file copies and removals in threads: the event loop never
waits on the disk. A training's end is recorded even when the disk is full for a
while: the write is retried until it succeeds, and the queue then goes on.
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
from deepaas_lite.engine import calls
from deepaas_lite.engine.processes.jobs import LocalJobs
from deepaas_lite.engine.protocol import Job, JobExecutor, JobRun
from deepaas_lite.logs import REQUEST_ID
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training import inputs, records
from deepaas_lite.training.database import Database
from deepaas_lite.training.log import CappedLog
from deepaas_lite.training.records import Status, Store, Training
from deepaas_lite.training.sink import RecordSink
from deepaas_lite.training.versions import Versions

LOG = logging.getLogger(__name__)

MIB = 1024 * 1024
RETRY_FIRST = 0.05
RETRY_MAX = 5.0

T = TypeVar("T")


class TrainingManager:
    """Trainings of the served models: records, scheduling, processes."""

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
        if workers < 1 or history < 1:
            raise ValueError("workers and history must be at least 1")
        self._models = models
        self._state_dir = Path(state_dir)
        self._workers = workers
        self._history = history
        self._queue_max = queue_max
        self._timeouts = {key: value for key, value in (timeouts or {}).items() if value}
        self._log_max_bytes = log_max_bytes
        self._executor: JobExecutor = LocalJobs() if executor is None else executor
        self.versions = Versions(models) if versions is None else versions
        self._db_: Database | None = None
        self._running: dict[str, tuple[JobRun, asyncio.Task[None]]] = {}
        self._filling = asyncio.Lock()
        self._retrying: set[asyncio.Task[Any]] = set()
        self._closing = False

    # Lifecycle.

    async def start(self) -> None:
        """Open the store; trainings that were running are now interrupted.

        Pending trainings start again, in submission order.
        """
        await asyncio.to_thread(self._make_dirs)
        database = Database(self._state_dir / "trainings.sqlite3")
        await database.open()
        self._db_ = database
        interrupted = await database.write(Store.interrupt_running)
        if interrupted:
            LOG.warning("%d training(s) were interrupted by a stop", len(interrupted))
        pending = {training.uuid for training in await database.call(Store.pending)}
        await asyncio.to_thread(self._remove_stale_inputs, pending)
        await self.versions.clean(pending)
        for model_id in self._models:
            await self._prune(model_id)
        await self._fill_slots()

    async def close(self) -> None:
        """Stop running trainings (now interrupted); pending ones stay pending."""
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
                    LOG.info("Training '%s' interrupted: the server is stopping", uuid)
            except sqlite3.Error as exc:
                LOG.error("Training '%s' could not be marked interrupted: %s", uuid, exc)
        await asyncio.gather(*(run.stop() for run, _ in running))
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)
        await self._db.close()
        self._db_ = None

    # The interface.

    async def submit(
        self, model_id: str, args: Mapping[str, Any], request_id: str | None = None
    ) -> dict[str, Any]:
        """Store a new training, its files copied; it starts when a slot is free.

        ``request_id`` (of the request that submitted it) is kept on the record.

        On any failure nothing is left behind: no copied file, no record.
        """
        wrapper = self._model(model_id)
        if not wrapper.can_train:
            raise exceptions.NotImplementedByModel(f"Model '{model_id}' does not implement train")
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
            )
        except BaseException as exc:
            await _finish_in_thread(shutil.rmtree, directory, True)
            if isinstance(exc, OSError | sqlite3.OperationalError):
                LOG.error("Training of '%s' not stored: %s", model_id, exc)
                raise exceptions.StorageFailed(
                    f"The training could not be stored: {_reason(exc)}"
                ) from exc
            raise
        LOG.info("Training '%s' of '%s' submitted", uuid, model_id)
        try:
            await self._fill_slots()
        except Exception as exc:
            # Stored, so not an error: it starts once the store works again.
            LOG.warning("Pending trainings could not start (%s); retrying", _reason(exc))
            self._retrying.add(
                retry := asyncio.create_task(
                    self._until_done("start pending trainings", self._fill_slots)
                )
            )
            retry.add_done_callback(self._retrying.discard)
        return (await self._training(model_id, uuid)).as_dict()

    async def list(self, model_id: str) -> builtins.list[dict[str, Any]]:
        """A model's training records, oldest first."""
        self._model(model_id)
        return [
            self.versions.annotate(model_id, training.as_dict())
            for training in await self._db.call(Store.of_model, model_id)
        ]

    async def get(self, model_id: str, uuid: str) -> dict[str, Any]:
        return self.versions.annotate(model_id, (await self._training(model_id, uuid)).as_dict())

    async def cancel(self, model_id: str, uuid: str) -> dict[str, Any]:
        """Cancel a pending or running training; its processes are gone on return."""
        training = await self._training(model_id, uuid)
        if not await self._db.write(Store.finish, uuid, Status.CANCELLED):
            raise exceptions.TrainingFinished(
                f"Training '{uuid}' has already ended ({training.status})"
            )
        LOG.info("Training '%s' of '%s' cancelled", uuid, model_id)
        if uuid in self._running:
            run, task = self._running[uuid]
            await run.stop()
            await asyncio.shield(task)
        else:
            await asyncio.to_thread(shutil.rmtree, self._inputs_dir(uuid), True)
            await self._prune(model_id)
        return await self.get(model_id, uuid)

    async def delete(self, model_id: str, uuid: str) -> dict[str, Any]:
        """What ``DELETE`` means, as in DEEPaaS: a pending or running training is
        cancelled (its record kept, ``cancelled``); an ended one is removed with its log
        and inputs. Returns the record as it was last.
        """
        try:
            return await self.cancel(model_id, uuid)
        except exceptions.TrainingFinished:
            pass
        training = await self._training(model_id, uuid)
        await self.versions.removable(model_id, uuid)
        if not await self._db.write(Store.remove, uuid):
            raise exceptions.TrainingNotFound(f"Training '{uuid}' of model '{model_id}' not found")
        await asyncio.to_thread(self._remove_files, [uuid])
        record = self.versions.annotate(model_id, training.as_dict())
        await self.versions.remove(model_id, [uuid])
        return record

    async def log_path(self, model_id: str, uuid: str) -> Path:
        """The file holding what the training printed (it may not exist yet)."""
        await self._training(model_id, uuid)
        return self._log_path(uuid)

    def status_counts(self, model_id: str) -> dict[Status, int]:
        """How many of a model's trainings are in each status (as of the last change)."""
        if self._db_ is None:
            return {}
        return dict(self._db_.status_counts.get(model_id, {}))

    # Scheduling.

    async def _fill_slots(self) -> None:
        """Start pending trainings, oldest first, while there are free slots."""
        async with self._filling:
            if self._closing:
                return
            free = self._workers - len(self._running)
            if free <= 0:
                return
            for training in (await self._db.call(Store.pending, list(self._models)))[:free]:
                if await self._db.write(Store.start, training.uuid):
                    await self._launch(training)

    async def _launch(self, training: Training) -> None:
        uuid = training.uuid
        sink: RecordSink | None = None
        try:
            kwargs = inputs.unpack(await self._db.call(Store.kwargs, uuid))
            job = Job(uuid, training.model_id, calls.TRAINING, kwargs)
            log = await asyncio.to_thread(CappedLog, self._log_path(uuid), self._log_max_bytes)
            sink = RecordSink(self._db, uuid, log, self._until_done)
            run = self._executor.run(self._models[training.model_id], job, sink)
            run.start()
        except Exception as exc:
            LOG.exception("Training '%s' could not start", uuid)
            if sink is not None:
                await asyncio.to_thread(sink.close)
            message = f"Training process failed to start: {_reason(exc)}"
            await self._until_done(
                f"record that training '{uuid}' could not start",
                lambda: self._db.write(Store.finish, uuid, Status.ERROR, message),
            )
            return
        LOG.info("Training '%s' of '%s' started", uuid, training.model_id)
        # Its log lines name the request that submitted it, not the one running now.
        context = contextvars.copy_context()
        context.run(REQUEST_ID.set, training.request_id)
        task = asyncio.create_task(self._supervise(run, sink), context=context)
        self._running[uuid] = (run, task)

    async def _supervise(self, run: JobRun, sink: RecordSink) -> None:
        """Wait for a training's run; record how it ended; start the next one.

        Nothing here may end the task early: whatever fails, the record ends and the
        queue goes on.
        """
        job = run.job
        exitcode: int | None = None
        reason: str | None = None
        try:
            exitcode, reason = await self._wait(run)
        except Exception as exc:
            LOG.exception("Training '%s': supervising its process failed", job.uuid)
            run.kill()
            reason = f"Training supervision failed: {_reason(exc)}"
        try:
            await asyncio.to_thread(sink.close)
            # The inputs go first, so that a finished record never has its files left.
            await asyncio.to_thread(shutil.rmtree, self._inputs_dir(job.uuid), True)
        except Exception as exc:
            LOG.exception("Training '%s': cleaning up after it failed", job.uuid)
            reason = reason or f"Training supervision failed: {_reason(exc)}"
        await self._until_done(
            f"record the end of training '{job.uuid}'", lambda: self._end(job, exitcode, reason)
        )
        try:
            ended = await self._db.call(Store.get, job.uuid)
            if ended is not None:
                await self.versions.ended(job.model_id, job.uuid, ended.status)
        except Exception:
            LOG.exception("Training '%s': storing its model version failed", job.uuid)
        del self._running[job.uuid]
        await self._until_done("start pending trainings", self._fill_slots)
        try:
            await self._prune(job.model_id)
        except Exception:
            LOG.exception("Pruning the trainings of '%s' failed", job.model_id)

    async def _wait(self, run: JobRun) -> tuple[int, str | None]:
        """The run's exit code, and why it was stopped (its timeout), if it was."""
        timeout = self._timeouts.get(run.job.model_id)
        try:
            return await asyncio.wait_for(run.wait(), timeout), None
        except TimeoutError:
            LOG.warning("Training '%s' exceeded its %g s timeout", run.job.uuid, timeout)
            await run.stop()
            return await run.wait(), f"Training exceeded the {timeout:g} s timeout"

    async def _end(self, job: Job, exitcode: int | None, reason: str | None) -> None:
        """Give a training whose process is gone its final status, unless it has one.

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
            LOG.warning("Training '%s' ended in error: %s", uuid, message)
        else:
            LOG.info("Training '%s': %s", uuid, status)

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
        """Forget a model's ended trainings beyond the newest ``history``, and files."""
        uuids = await self._db.write(Store.prune, model_id, self._history)
        if uuids:
            await asyncio.to_thread(self._remove_files, uuids)
            await self.versions.remove(model_id, uuids)

    # Lookups.

    @property
    def _db(self) -> Database:
        if self._db_ is None:
            raise RuntimeError("TrainingManager is not started")
        return self._db_

    def _model(self, model_id: str) -> ModelWrapper:
        try:
            return self._models[model_id]
        except KeyError:
            raise exceptions.ModelNotFound(f"Model '{model_id}' not found") from None

    async def _training(self, model_id: str, uuid: str) -> Training:
        self._model(model_id)
        training = await self._db.call(Store.get, uuid)
        if training is None or training.model_id != model_id:
            raise exceptions.TrainingNotFound(f"Training '{uuid}' of model '{model_id}' not found")
        return training

    # Files (blocking: called in threads).

    def _log_path(self, uuid: str) -> Path:
        return self._state_dir / "logs" / f"{uuid}.log"

    def _inputs_dir(self, uuid: str) -> Path:
        return self._state_dir / "inputs" / uuid

    def _make_dirs(self) -> None:
        for name in ("logs", "inputs"):
            (self._state_dir / name).mkdir(parents=True, exist_ok=True)

    def _remove_files(self, uuids: Iterable[str]) -> None:
        for uuid in uuids:
            self._log_path(uuid).unlink(missing_ok=True)
            shutil.rmtree(self._inputs_dir(uuid), ignore_errors=True)

    def _remove_stale_inputs(self, keep: set[str]) -> None:
        """Remove the copied files of trainings that will not run again."""
        for directory in (self._state_dir / "inputs").iterdir():
            if directory.name not in keep:
                shutil.rmtree(directory, ignore_errors=True)


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
