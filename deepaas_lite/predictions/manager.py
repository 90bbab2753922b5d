"""The prediction jobs of the served models: a ``JobManager`` of the ``prediction`` kind.

A job is one prediction, run on the model's own predictor (``engine/prediction_jobs``),
so within the model's limits. Its record lives in the same store as the trainings' (a
table of its own), survives restarts the same way (running ones are ``interrupted``,
pending ones run again), and keeps its file arguments as copies until it ends. What
it produced is a file in the state directory (``predictions/outputs/<uuid>``), its
content type and size on the record, and, for JSON, the value itself; an output over
``output_max_bytes`` ends the job in ``error`` instead. A job that names a
``callback`` has its record sent there when it ends (``Notifier``: webhooks).
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from deepaas_lite import exceptions
from deepaas_lite.engine.prediction_jobs import INFERENCE, JSON, PredictionOutput, PredictorJobs
from deepaas_lite.engine.protocol import Outcome, Predictor
from deepaas_lite.model.inference import Inference
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training.database import Database
from deepaas_lite.training.manager import JobManager
from deepaas_lite.training.records import Kind, Record, Status
from deepaas_lite.training.sink import Keep, RecordSink

LOG = logging.getLogger(__name__)

MIB = 1024 * 1024

PREDICTIONS = Kind(
    "predictions",
    "prediction",
    files="predictions",
    not_found=exceptions.PredictionJobNotFound,
    finished=exceptions.PredictionJobFinished,
    queue_full=exceptions.PredictionJobQueueFull,
)


class Notifier(Protocol):
    """Sends an ended job's record to the URL it named (``web/webhooks.py``)."""

    def check(self, url: str, field: str = ...) -> str: ...

    def deliver(self, url: str, record: Mapping[str, Any]) -> None: ...


class PredictionJobManager(JobManager):
    """Prediction jobs: ``submit`` (the record, pending or running), ``submit_inference``
    (an inference of the Open Inference Protocol, whose output is its V2 answer),
    ``list``, ``get``, ``delete`` (cancel, or remove an ended one with its output),
    ``output`` (its content type and file)."""

    def __init__(
        self,
        models: Mapping[str, ModelWrapper],
        state_dir: Path,
        predictor_of: Callable[[str], Predictor],
        workers: int = 4,
        history: int = 100,
        *,
        queue_max: int = 100,
        output_max_bytes: int = 16 * MIB,
        notifier: Notifier | None = None,
    ) -> None:
        super().__init__(
            PREDICTIONS,
            models,
            state_dir,
            workers,
            history,
            queue_max=queue_max,
            executor=PredictorJobs(predictor_of),
        )
        self._output_max_bytes = output_max_bytes
        self.notifier = notifier

    async def submit_inference(
        self,
        model_id: str,
        inference: Inference,
        request_id: str | None = None,
        callback: str | None = None,
    ) -> dict[str, Any]:
        """``inference`` as a job, as ``submit``: its record says ``"call": "inference"``
        and shows the inference's ``job_args``; it survives restarts with them."""
        return await self.submit(
            model_id, inference.job_args(), request_id, callback, call=INFERENCE
        )

    async def output(self, model_id: str, uuid: str) -> tuple[str, Path]:
        """The content type and file of a ``done`` job's output; ``NoOutput`` otherwise."""
        record = await self._record(model_id, uuid)
        shown = self._annotate(model_id, record.as_dict())
        content_type = shown["result"].get("content_type")
        path = self._output_path(uuid)
        if record.status is not Status.DONE or content_type is None or not path.exists():
            why = "it has not ended" if not record.ended else f"it ended {record.status}"
            raise exceptions.NoOutput(f"Prediction '{uuid}' has no output: {why}")
        return content_type, path

    # The kind's rules.

    def _check_callback(self, callback: str | None) -> None:
        """A ``callback`` the notifier refuses, or any without one, is refused."""
        if callback is None:
            return
        if self.notifier is None:
            raise exceptions.InvalidArguments({"callback": ["Webhooks are off on this server."]})
        self.notifier.check(callback)

    def _check_model(self, model: ModelWrapper) -> None:
        if not model.can_predict:
            raise exceptions.NotImplementedByModel(f"Model '{model.id}' does not implement predict")

    def _annotate(self, model_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """The stored ``{"content_type", "size", "output"?}`` shown as the result's
        ``content_type`` and (JSON only) ``output``."""
        result = record.get("result", {})
        stored = result.pop("output", None)
        if isinstance(stored, dict):
            result["content_type"] = stored.get("content_type")
            result["size"] = stored.get("size")
            if "output" in stored:
                result["output"] = stored["output"]
        return record

    async def _sink(self, record: Record) -> RecordSink:
        return OutputSink(
            self._db,
            record.uuid,
            self._until_done,
            self._output_path(record.uuid),
            self._output_max_bytes,
        )

    async def _ended(self, record: Record) -> None:
        if record.callback is not None and self.notifier is not None:
            shown = self._annotate(record.model_id, record.as_dict())
            self.notifier.deliver(record.callback, shown)

    async def _removed(self, model_id: str, uuids: builtins.list[str]) -> None:
        await asyncio.to_thread(self._remove_outputs, uuids)

    # Files (blocking: called in threads).

    def _output_path(self, uuid: str) -> Path:
        return self._files() / "outputs" / uuid

    def _make_dirs(self) -> None:
        super()._make_dirs()
        (self._files() / "outputs").mkdir(parents=True, exist_ok=True)

    def _remove_outputs(self, uuids: Iterable[str]) -> None:
        for uuid in uuids:
            self._output_path(uuid).unlink(missing_ok=True)


class OutputSink(RecordSink):
    """A prediction's reports: no log; its output to ``path``, described on its record."""

    def __init__(self, db: Database, uuid: str, keep: Keep, path: Path, max_bytes: int) -> None:
        super().__init__(db, uuid, None, keep)
        self._path = path
        self._max_bytes = max_bytes

    async def outcome(self, outcome: Outcome) -> None:
        if outcome.ok and isinstance(outcome.output, PredictionOutput):
            try:
                outcome = Outcome(output=await asyncio.to_thread(self._keep_output, outcome.output))
            except _TooLarge as exc:
                outcome = Outcome(error=str(exc))
            except OSError as exc:
                LOG.error("The output of prediction '%s' could not be stored: %s", self._uuid, exc)
                outcome = Outcome(error=f"The output could not be stored: {exc.strerror or exc}")
        await super().outcome(outcome)

    def _keep_output(self, produced: PredictionOutput) -> str:
        """Write the output's file (atomically); its description as JSON text."""
        size = len(produced.body)
        if size > self._max_bytes:
            raise _TooLarge(
                f"The output ({size} bytes) is over this server's limit "
                f"(--prediction-output-max-bytes {self._max_bytes})"
            )
        partial = self._path.with_name(self._path.name + ".partial")
        with open(partial, "wb") as file:
            file.write(produced.body)
        os.replace(partial, self._path)
        described = {"content_type": produced.content_type, "size": size}
        text = json.dumps(described)
        if produced.content_type == JSON:  # the value, as the body already holds it
            text = text[:-1] + ', "output": ' + produced.body.decode() + "}"
        return text


class _TooLarge(Exception):
    pass
