"""The Ray executor of trainings: each one a Ray task, seen from the server (a
``TrainingRun``).

``start`` submits ``remote.train`` with the resources the training asks for: the
``--ray-train-resources`` option, else the plugin's ``get_metadata()["resources"]``,
else one CPU. The events the task streams back are applied here: its output goes to
the training's log pipe, its progress and outcome to the store, so the record and the
log read as with a local training. ``stop`` cancels the task with force (Ray kills
its worker process). A lost node or a crashed worker ends the training in ``error``
with Ray's reason: an ended task never leaves the record running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ray
import ray.exceptions

from deepaas_lite.engine.processes.training import describe_exit
from deepaas_lite.engine.ray import cluster, files, remote
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training import inputs
from deepaas_lite.training.database import Database
from deepaas_lite.training.records import Store

LOG = logging.getLogger(__name__)

DEFAULT_RESOURCES = {"num_cpus": 1.0}

# Never run again by Ray: a training that was lost ends in error, and the user decides.
_TRAIN = ray.remote(max_retries=0, max_calls=1)(remote.train)

# Ray's names of the resources asked for with keywords.
_NODE_KEYS = {"num_cpus": "CPU", "num_gpus": "GPU", "memory": "memory"}


class TrainingLost(Exception):
    """The task ended without an outcome (its node or worker died, Ray failed)."""


class RayTrainings:
    """Runs each training as a task on the Ray cluster."""

    def run(self, db_path: Path, model: ModelWrapper, uuid: str, log_fd: int) -> RayTraining:
        return RayTraining(db_path, uuid, log_fd, model)

    def describe_exit(self, exitcode: int) -> str:
        return describe_exit(exitcode)  # as a local training's: the same records


class RayTraining:
    """One training on the Ray cluster."""

    def __init__(self, db_path: Path, uuid: str, log_fd: int, model: ModelWrapper) -> None:
        """``log_fd``: the write end of the training's log pipe (the caller closes its own)."""
        self.uuid = uuid
        self._db = Database(db_path)
        self._model = model
        self._log_fd = os.dup(log_fd)
        self._task: asyncio.Task[int] | None = None
        self._generator: Any = None  # ray.ObjectRefGenerator once submitted
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"deepaas-ray-training-{self.uuid}"
        )

    async def wait(self) -> int:
        """0 once the outcome is stored; 1 when the task was lost (stored as the
        outcome's message); ``-SIGKILL`` when stopped."""
        assert self._task is not None, "start() first"
        return await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Cancel the task with force; returns once it has ended."""
        self.kill()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)

    def kill(self) -> None:
        self._stopping = True
        if self._generator is not None:
            ray.cancel(self._generator, force=True)

    async def _run(self) -> int:
        try:
            await self._db.open()
            try:
                return await self._stream()
            finally:
                await self._db.close()
        finally:
            os.close(self._log_fd)

    async def _stream(self) -> int:
        try:
            model_id, kwargs, contents, options = await asyncio.to_thread(self._prepare)
        except Exception as exc:
            return await self._lost(f"Training could not be sent to the Ray cluster: {exc}")
        if self._stopping:
            return -signal.SIGKILL
        self._generator = _TRAIN.options(name=f"deepaas-train-{model_id}", **options).remote(
            model_id, kwargs, contents
        )
        LOG.info("Training '%s' sent to the Ray cluster (%s)", self.uuid, options)
        try:
            async for ref in self._generator:
                kind, value = await ref
                if kind == "log":
                    await asyncio.to_thread(_write_all, self._log_fd, value)
                elif kind == "progress":
                    await self._db.call(Store.set_progress, self.uuid, *value)
                elif kind == "done":
                    await self._db.call(Store.save_outcome, self.uuid, output=value)
                else:
                    await self._db.call(Store.save_outcome, self.uuid, message=value)
        except ray.exceptions.RayError as exc:
            if self._stopping:
                return -signal.SIGKILL
            return await self._lost(_describe(exc))
        return 0

    async def _lost(self, message: str) -> int:
        LOG.error("Training '%s': %s", self.uuid, message)
        await self._db.call(Store.save_outcome, self.uuid, message=message)
        return 1

    def _prepare(self) -> tuple[str, bytes, files.Contents, dict[str, Any]]:
        """What the task is given, and how it is placed. Blocking."""
        store = Store(self._db.path)
        try:
            training = store.get(self.uuid)
            if training is None:
                raise LookupError(f"training '{self.uuid}' is not in the store")
            kwargs = store.kwargs(self.uuid)
        finally:
            store.close()
        contents = files.pack(inputs.unpack(kwargs))
        resources = self._resources()
        _check_feasible(resources)
        return training.model_id, kwargs, contents, cluster.ray_options(resources)

    def _resources(self) -> dict[str, float]:
        configured = cluster.current().train_resources
        if configured is not None:
            return configured
        declared = self._model.metadata().get("resources")
        if declared is None:
            return dict(DEFAULT_RESOURCES)
        return cluster.check_resources(
            declared, f"Model '{self._model.id}': get_metadata()['resources']"
        )


def _check_feasible(resources: Mapping[str, float]) -> None:
    """Raise when no live node has ``resources`` (the task would wait forever)."""
    wanted = {_NODE_KEYS.get(key, key): amount for key, amount in resources.items() if amount}
    listed = ray.nodes()  # type: ignore[no-untyped-call]
    nodes = [node.get("Resources", {}) for node in listed if node.get("Alive")]
    if any(all(node.get(key, 0) >= amount for key, amount in wanted.items()) for node in nodes):
        return
    raise cluster.RaySetupError(
        f"no node of the Ray cluster has {_shown(wanted)} "
        f"(its nodes have: {'; '.join(_shown(node) for node in nodes) or 'none'})"
    )


def _shown(resources: Mapping[str, float]) -> str:
    return ", ".join(
        f"{key} {amount:g}"
        for key, amount in sorted(resources.items())
        if not key.startswith("node:") and key != "object_store_memory"
    )


def _describe(exc: BaseException) -> str:
    """Ray's reason, on one line, without its long advice."""
    if isinstance(exc, ray.exceptions.NodeDiedError):
        reason = "the Ray node running the training died"
    elif isinstance(exc, ray.exceptions.WorkerCrashedError):
        reason = "the Ray worker process running the training died"
    else:
        reason = f"Ray failed ({type(exc).__name__})"
    first = str(exc).strip().splitlines()
    detail = f": {first[0]}" if first else ""
    return f"Training lost: {reason}{detail}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BrokenPipeError:  # the log is no longer read
            return
        view = view[written:]
