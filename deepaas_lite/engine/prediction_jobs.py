"""Prediction jobs: a ``JobExecutor`` whose jobs are predictions run on the model's own
predictor (threads, worker processes or Ray actors), within its limits.

A job is a ``predict`` call (``PREDICTION``: its kwargs are the plugin's) or an Open
Inference Protocol inference (``INFERENCE``: its kwargs are an ``Inference``'s
``job_args``: one call, or one per row of a batch, run together as the synchronous
infer runs them). Its outcome is a ``PredictionOutput``: the answer's content type and
bytes, and, for JSON, the value itself (the record shows it); ``encode`` decides it.
Stopping a job cancels its calls: on worker processes the worker that ran one is
replaced, so no more of the plugin's code runs; on threads a running call cannot be
stopped, its result is discarded.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.engine.protocol import Job, JobSink, Outcome, Predictor, all_outputs
from deepaas_lite.model.inference import Inference, Signature
from deepaas_lite.model.output import encode as json_bytes
from deepaas_lite.model.output import raw_bytes, with_charset
from deepaas_lite.model.wrapper import ModelWrapper

LOG = logging.getLogger(__name__)

JSON = "application/json"
PREDICTION = "prediction"
INFERENCE = "inference"
"""The kinds of job (``Job.kind``) this executor runs: a prediction (the prediction
jobs' own), an inference of the Open Inference Protocol."""

_CANCELLED = -int(signal.SIGTERM)


@dataclass(frozen=True)
class PredictionOutput:
    """What a prediction produced: ``body`` of ``content_type``; ``value`` is the JSON
    value when the content type is JSON, else ``None``."""

    content_type: str
    body: bytes
    value: Any = None


def calls_of(job: Job) -> Sequence[Mapping[str, Any]]:
    """The plugin calls ``job`` makes: an inference's, or the one prediction."""
    return _inference(job).calls if job.kind == INFERENCE else [job.kwargs]


def encode(model: ModelWrapper, job: Job, outputs: Sequence[Any]) -> PredictionOutput:
    """What ``job`` produced, from its calls' ``outputs``, as the synchronous route would
    answer it: an inference's V2 answer, as JSON (the outputs asked for as binary data
    too: a job's output is one JSON document); a prediction's JSON (checked against the
    model's response schema when it has one), or its raw answer for a non-JSON
    ``accept``. Blocking (it may read a file): run it in a thread."""
    if job.kind == INFERENCE:
        answer = Signature.of(model).answer(_inference(job), outputs)
        if answer.blobs:
            raise exceptions.InvalidResponse(
                "An output holds bytes that are not UTF-8 text, which a job's JSON "
                "answer cannot carry: infer synchronously to get them as binary data"
            )
        return PredictionOutput(JSON, json_bytes(answer.header), answer.header)
    (output,) = outputs
    media_type = model.answer_type(job.kwargs)
    if media_type != JSON:
        return PredictionOutput(with_charset(media_type), raw_bytes(output))
    value = model.validate_output(output) if model.response_schema is not None else output
    return PredictionOutput(JSON, json_bytes(value), value)


def _inference(job: Job) -> Inference:
    return Inference.of_job(job.kwargs)


class PredictorJobs:
    """Runs prediction jobs on the predictor ``predictor_of(model_id)`` gives."""

    def __init__(self, predictor_of: Callable[[str], Predictor], busy_wait: float = 1.0) -> None:
        self._predictor_of = predictor_of
        self._busy_wait = busy_wait

    def run(self, model: ModelWrapper, job: Job, sink: JobSink) -> PredictionRun:
        return PredictionRun(self._predictor_of(model.id), model, job, sink, self._busy_wait)

    def describe_exit(self, job: Job, exitcode: int) -> str:
        if exitcode == _CANCELLED:
            return "Prediction was stopped"
        return f"Prediction ended without an outcome (code {exitcode})"

    async def close(self) -> None:
        """Nothing of its own to let go of: the predictors are the server's."""


class PredictionRun:
    """One prediction job on its model's predictor."""

    def __init__(
        self,
        predictor: Predictor,
        model: ModelWrapper,
        job: Job,
        sink: JobSink,
        busy_wait: float,
    ) -> None:
        self.job = job
        self._predictor = predictor
        self._model = model
        self._sink = sink
        self._busy_wait = busy_wait
        self._task: asyncio.Task[int] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"deepaas {self.job.name}"
        )

    async def wait(self) -> int:
        task = self._started()
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                return _CANCELLED
            raise

    async def stop(self) -> None:
        self.kill()
        await self.wait()

    def kill(self) -> None:
        self._started().cancel()

    def _started(self) -> asyncio.Task[int]:
        if self._task is None:
            raise RuntimeError(f"{self.job.name} was not started")
        return self._task

    async def _run(self) -> int:
        try:
            calls = calls_of(self.job)
            outputs = await all_outputs([self._predicted(dict(kwargs)) for kwargs in calls])
            encoded = await asyncio.to_thread(encode, self._model, self.job, outputs)
        except exceptions.DeepaasError as exc:
            outcome = Outcome(error=exc.message)
        except Exception as exc:  # the plugin's own error, raised by a thread predictor
            outcome = Outcome(error=f"{type(exc).__name__}: {exc}")
        else:
            outcome = Outcome(output=encoded)
        await self._sink.outcome(outcome)
        return 0

    async def _predicted(self, kwargs: dict[str, Any]) -> Any:
        """One call's output; it waits while the model warms (a job resumed at start)
        and while the model's queue is full."""
        while True:
            if not self._predictor.ready and self._predictor.reason is None:
                await asyncio.sleep(self._busy_wait)
                continue
            try:
                return await self._predictor.predict(kwargs)
            except exceptions.ModelBusy:  # wait a turn
                await asyncio.sleep(self._busy_wait)
