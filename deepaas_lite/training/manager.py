"""The training manager: the one object the web layer talks to about trainings.

INTERFACE (agreed between the web layer and the training package):

    manager = TrainingManager(models, state_dir, workers=1, history=100)
    await manager.start()  # open the store; running -> interrupted; requeue pending
    record = await manager.submit(model_id, args)   # args may hold UploadedFile values
    manager.list(model_id) -> list[dict]            # oldest first
    manager.get(model_id, uuid) -> dict
    record = await manager.cancel(model_id, uuid)  # TrainingFinished when ended
    manager.log_path(model_id, uuid) -> pathlib.Path
    await manager.close()        # running -> interrupted, no child left behind

Records are plain dicts in the DEEPaaS shape (see ../shared/API.md).
Errors: ModelNotFound, TrainingNotFound, TrainingFinished, NotImplementedByModel.

Scheduling: at most ``workers`` trainings run at once, over all models; the others
wait as ``pending`` and start in submission order (pending trainings of a model that
is not served wait until it is). Everything here runs on the event loop; file copies
and removals run in threads, store operations are short SQLite transactions.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import shutil
import uuid as uuidlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training import inputs, records
from deepaas_lite.training.records import Store, Training
from deepaas_lite.training.runner import TrainingProcess, describe_exit

LOG = logging.getLogger(__name__)


class TrainingManager:
    """Trainings of the served models: records, scheduling, processes."""

    def __init__(
        self,
        models: Mapping[str, ModelWrapper],
        state_dir: Path,
        workers: int = 1,
        history: int = 100,
    ) -> None:
        if workers < 1 or history < 1:
            raise ValueError("workers and history must be at least 1")
        self._models = models
        self._state_dir = Path(state_dir)
        self._workers = workers
        self._history = history
        self._store_: Store | None = None
        self._running: dict[str, tuple[TrainingProcess, asyncio.Task[None]]] = {}
        self._closing = False

    # Lifecycle.

    async def start(self) -> None:
        """Open the store; trainings that were running are now interrupted.

        Pending trainings start again, in submission order.
        """
        await asyncio.to_thread(self._make_dirs)
        self._store_ = Store(self._state_dir / "trainings.sqlite3")
        interrupted = self._store.interrupt_running()
        if interrupted:
            LOG.warning("%d training(s) were interrupted by a stop", len(interrupted))
        pending = {training.uuid for training in self._store.pending()}
        await asyncio.to_thread(self._remove_stale_inputs, pending)
        for model_id in self._models:
            await self._prune(model_id)
        self._fill_slots()

    async def close(self) -> None:
        """Stop running trainings (now interrupted); pending ones stay pending."""
        self._closing = True
        if self._store_ is None:
            return
        running = list(self._running.values())
        for process, _ in running:
            self._store.finish(process.uuid, records.INTERRUPTED)
        await asyncio.gather(*(process.stop() for process, _ in running))
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)
        self._store.close()
        self._store_ = None

    # The interface.

    async def submit(self, model_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Store a new training, its files copied; it starts when a slot is free."""
        wrapper = self._model(model_id)
        if not wrapper.can_train:
            raise exceptions.NotImplementedByModel(f"Model '{model_id}' does not implement train")
        uuid = uuidlib.uuid4().hex
        kwargs = await asyncio.to_thread(self._keep_inputs, uuid, args)
        self._store.add(uuid, model_id, records.to_json(inputs.shown(args)), inputs.pack(kwargs))
        self._fill_slots()
        return self._training(model_id, uuid).as_dict()

    def list(self, model_id: str) -> builtins.list[dict[str, Any]]:
        """A model's training records, oldest first."""
        self._model(model_id)
        return [training.as_dict() for training in self._store.of_model(model_id)]

    def get(self, model_id: str, uuid: str) -> dict[str, Any]:
        return self._training(model_id, uuid).as_dict()

    async def cancel(self, model_id: str, uuid: str) -> dict[str, Any]:
        """Cancel a pending or running training; its processes are gone on return."""
        training = self._training(model_id, uuid)
        if not self._store.finish(uuid, records.CANCELLED):
            raise exceptions.TrainingFinished(
                f"Training '{uuid}' has already ended ({training.status})"
            )
        if uuid in self._running:
            process, task = self._running[uuid]
            await process.stop()
            await asyncio.shield(task)
        else:
            await asyncio.to_thread(shutil.rmtree, self._inputs_dir(uuid), True)
            await self._prune(model_id)
        return self.get(model_id, uuid)

    def log_path(self, model_id: str, uuid: str) -> Path:
        """The file holding what the training printed (it may not exist yet)."""
        self._training(model_id, uuid)
        return self._log_path(uuid)

    # Scheduling.

    def _fill_slots(self) -> None:
        """Start pending trainings, oldest first, while there are free slots."""
        if self._closing:
            return
        free = self._workers - len(self._running)
        for training in self._store.pending(list(self._models))[: max(free, 0)]:
            if self._store.start(training.uuid):
                self._launch(training)

    def _launch(self, training: Training) -> None:
        process = TrainingProcess(self._store.path, training.uuid, self._log_path(training.uuid))
        try:
            process.start()
        except Exception as exc:
            LOG.exception("Training '%s' could not start", training.uuid)
            self._store.finish(
                training.uuid, records.ERROR, f"Training process failed to start: {exc}"
            )
            return
        task = asyncio.create_task(self._supervise(process, training.model_id))
        self._running[training.uuid] = (process, task)

    async def _supervise(self, process: TrainingProcess, model_id: str) -> None:
        """Wait for a training's process; record how it ended; start the next one."""
        try:
            exitcode = await process.wait()
            # The inputs go first, so that a finished record never has its files left.
            await asyncio.to_thread(shutil.rmtree, self._inputs_dir(process.uuid), True)
        except BaseException:
            process.kill()
            raise
        finally:
            del self._running[process.uuid]
        status, message = self._outcome(process.uuid, exitcode)
        if self._store.finish(process.uuid, status, message):
            LOG.info("Training '%s' of '%s': %s", process.uuid, model_id, status)
        self._fill_slots()
        await self._prune(model_id)

    def _outcome(self, uuid: str, exitcode: int) -> tuple[str, str | None]:
        """The status (and message) of a training whose process exited."""
        training = self._store.get(uuid)
        assert training is not None
        if training.outcome == records.DONE:
            return records.DONE, None
        if training.outcome == records.ERROR:
            return records.ERROR, training.message
        return records.ERROR, describe_exit(exitcode)

    async def _prune(self, model_id: str) -> None:
        """Forget a model's ended trainings beyond the newest ``history``, and files."""
        uuids = self._store.prune(model_id, self._history)
        if uuids:
            await asyncio.to_thread(self._remove_files, uuids)

    # Lookups.

    @property
    def _store(self) -> Store:
        if self._store_ is None:
            raise RuntimeError("TrainingManager is not started")
        return self._store_

    def _model(self, model_id: str) -> ModelWrapper:
        try:
            return self._models[model_id]
        except KeyError:
            raise exceptions.ModelNotFound(f"Model '{model_id}' not found") from None

    def _training(self, model_id: str, uuid: str) -> Training:
        self._model(model_id)
        training = self._store.get(uuid)
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

    def _keep_inputs(self, uuid: str, args: Mapping[str, Any]) -> dict[str, Any]:
        self._log_path(uuid).touch()
        return inputs.keep_files(args, self._inputs_dir(uuid))

    def _remove_files(self, uuids: Iterable[str]) -> None:
        for uuid in uuids:
            self._log_path(uuid).unlink(missing_ok=True)
            shutil.rmtree(self._inputs_dir(uuid), ignore_errors=True)

    def _remove_stale_inputs(self, keep: set[str]) -> None:
        """Remove the copied files of trainings that will not run again."""
        for directory in (self._state_dir / "inputs").iterdir():
            if directory.name not in keep:
                shutil.rmtree(directory, ignore_errors=True)
