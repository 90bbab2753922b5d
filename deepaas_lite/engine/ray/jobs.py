"""The Ray executor of jobs: each one a Ray task, seen from the server (a ``JobRun``).

``start`` submits ``remote.run_job`` with the resources the job asks for: the
``--ray-train-resources`` option, else the plugin's ``get_metadata()["resources"]``,
else one CPU. The events the task streams back go to the job's sink, as a local job's
do, so the record and the log read the same. ``stop`` cancels the task with force
(Ray kills its worker process). A lost node or a crashed worker is reported as the
job's outcome, an error with Ray's reason: an ended task never leaves a job running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import signal
from collections.abc import Mapping
from typing import Any

import ray
import ray.exceptions

from deepaas_lite.engine.processes.jobs import describe_exit
from deepaas_lite.engine.protocol import Job, JobSink, Outcome
from deepaas_lite.engine.ray import cluster, files, remote
from deepaas_lite.exceptions import ExecutorUnavailable
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

DEFAULT_RESOURCES = {"num_cpus": 1.0}

# Never run again by Ray: a job that was lost ends in error, and the user decides.
_RUN_JOB = ray.remote(max_retries=0, max_calls=1)(remote.run_job)

# Ray's names of the resources asked for with keywords.
_NODE_KEYS = {"num_cpus": "CPU", "num_gpus": "GPU", "memory": "memory"}


class RayJobs:
    """Runs each job as a task on the Ray cluster."""

    def run(self, model: ModelWrapper, job: Job, sink: JobSink) -> RayJob:
        return RayJob(model, job, sink)

    def describe_exit(self, job: Job, exitcode: int) -> str:
        return describe_exit(job, exitcode)  # as a local job's: the same records

    async def close(self) -> None:
        pass


class RayJob:
    """One job on the Ray cluster."""

    def __init__(self, model: ModelWrapper, job: Job, sink: JobSink) -> None:
        self.job = job
        self._model = model
        self._sink = sink
        self._task: asyncio.Task[int] | None = None
        self._generator: Any = None  # ray.ObjectRefGenerator once submitted
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._stream(), name=f"deepaas-ray-{self.job.kind}-{self.job.uuid}"
        )

    async def wait(self) -> int:
        """0 once the outcome is reported; 1 when the task was lost (reported as the
        outcome's error); ``-SIGKILL`` when stopped."""
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

    async def _stream(self) -> int:
        job = self.job
        try:
            kwargs, contents, options = await asyncio.to_thread(self._prepare)
        except Exception as exc:
            return await self._lost(
                f"{job.kind.capitalize()} could not be sent to the Ray cluster: {exc}"
            )
        if self._stopping:
            return -signal.SIGKILL
        self._generator = _RUN_JOB.options(
            name=f"deepaas-{job.kind}-{job.model_id}", **options
        ).remote(job.model_id, job.kind, kwargs, contents, job.uuid)  # type: ignore[call-arg]
        LOG.info("%s sent to the Ray cluster (%s)", job.name.capitalize(), options)
        try:
            async for ref in self._generator:
                kind, value = await ref
                if kind == remote.LOG:
                    await asyncio.to_thread(self._sink.log, value)
                elif kind == remote.PROGRESS:
                    await self._sink.progress(*value)
                else:
                    await self._sink.outcome(value)
        except ray.exceptions.RayError as exc:
            if self._stopping:
                return -signal.SIGKILL
            return await self._lost(_describe(job, exc))
        return 0

    async def _lost(self, message: str) -> int:
        LOG.error("%s: %s", self.job.name.capitalize(), message)
        await self._sink.outcome(Outcome(error=message))
        return 1

    def _prepare(self) -> tuple[bytes, files.Contents, dict[str, Any]]:
        """What the task is given, and how it is placed. Blocking."""
        kwargs = dict(self.job.kwargs)
        contents = files.pack(kwargs)
        resources = self._resources()
        _check_feasible(resources)
        return pickle.dumps(kwargs), contents, cluster.ray_options(resources)

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
    raise ExecutorUnavailable(
        f"no node of the Ray cluster has {_shown(wanted)} "
        f"(its nodes have: {'; '.join(_shown(node) for node in nodes) or 'none'})"
    )


def _shown(resources: Mapping[str, float]) -> str:
    return ", ".join(
        f"{key} {amount:g}"
        for key, amount in sorted(resources.items())
        if not key.startswith("node:") and key != "object_store_memory"
    )


def _describe(job: Job, exc: BaseException) -> str:
    """Ray's reason, on one line, without its long advice."""
    if isinstance(exc, ray.exceptions.NodeDiedError):
        reason = f"the Ray node running the {job.kind} died"
    elif isinstance(exc, ray.exceptions.WorkerCrashedError):
        reason = f"the Ray worker process running the {job.kind} died"
    else:
        reason = f"Ray failed ({type(exc).__name__})"
    first = str(exc).strip().splitlines()
    detail = f": {first[0]}" if first else ""
    return f"{job.kind.capitalize()} lost: {reason}{detail}"
