"""The local executor of jobs on its own: a ``Job`` handed over whole, its reports in
a sink, and no record, store or training package anywhere."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from deepaas_lite.engine import calls
from deepaas_lite.engine.processes.jobs import LocalJobs, describe_exit
from deepaas_lite.engine.protocol import Job, Outcome
from deepaas_lite.model import loading
from deepaas_lite.model.wrapper import ModelWrapper

GUARD = 60.0  # seconds before a test that would hang fails instead


class MemorySink:
    """Keeps what a job reports, in order."""

    def __init__(self) -> None:
        self.output = bytearray()
        self.reports: list[tuple[str, object]] = []

    def log(self, data: bytes) -> None:
        self.output += data

    async def progress(self, fraction: float, message: str) -> None:
        self.reports.append(("progress", (fraction, message)))

    async def outcome(self, outcome: Outcome) -> None:
        self.reports.append(("outcome", outcome))

    @property
    def text(self) -> str:
        return self.output.decode()


@pytest.fixture(scope="module")
def models() -> dict[str, ModelWrapper]:
    return loading.load_models(["train-sleeper", "train-progress", "train-raiser", "train-exiter"])


async def run(
    models: dict[str, ModelWrapper], job: Job, standby: bool = False
) -> tuple[int, MemorySink]:
    jobs = LocalJobs(standby=standby)
    sink = MemorySink()
    running = jobs.run(models[job.model_id], job, sink)
    running.start()
    try:
        code = await asyncio.wait_for(running.wait(), GUARD)
    finally:
        await jobs.close()
    return code, sink


def job(model_id: str, kind: str = calls.TRAINING, **kwargs: object) -> Job:
    return Job("0" * 32, model_id, kind, kwargs)


async def test_a_job_reports_its_output_and_its_outcome(models: dict[str, ModelWrapper]) -> None:
    code, sink = await run(models, job("train-sleeper", tag="memory"))

    assert code == 0
    [(kind, outcome)] = sink.reports
    assert kind == "outcome" and isinstance(outcome, Outcome) and outcome.ok
    assert json.loads(outcome.output)["tag"] == "memory"
    assert "training memory to stdout" in sink.text
    assert "training memory to stderr" in sink.text


async def test_progress_comes_in_order_before_the_outcome(
    models: dict[str, ModelWrapper], tmp_path: Path
) -> None:
    release = tmp_path / "release"
    release.touch()

    code, sink = await run(models, job("train-progress", release=str(release)))

    assert code == 0
    assert sink.reports == [
        ("progress", (0.25, "a quarter")),
        ("progress", (0.5, "halfway")),
        ("progress", (1.0, "")),
        ("outcome", Outcome(output='"finished"')),
    ]


async def test_what_train_raised_is_the_outcomes_error(models: dict[str, ModelWrapper]) -> None:
    code, sink = await run(models, job("train-raiser", tag="(0.5)"))

    assert code == 0
    assert sink.reports == [("outcome", Outcome(error="learning rate too high (0.5)"))]
    assert "ValueError: learning rate too high (0.5)" in sink.text


async def test_a_job_that_exits_reports_no_outcome(models: dict[str, ModelWrapper]) -> None:
    exiting = job("train-exiter")

    code, sink = await run(models, exiting)

    assert code == 3
    assert sink.reports == []
    assert "about to exit" in sink.text
    assert describe_exit(exiting, code) == "Training process exited with code 3"


async def test_a_kind_no_process_knows_is_the_outcomes_error(
    models: dict[str, ModelWrapper],
) -> None:
    code, sink = await run(models, job("train-sleeper", kind="divination"))

    assert code == 0
    assert sink.reports == [("outcome", Outcome(error="no job of kind 'divination'"))]


async def test_a_job_runs_alike_in_a_process_started_ahead(
    models: dict[str, ModelWrapper],
) -> None:
    jobs = LocalJobs(standby=True)
    try:
        pids = []
        for tag in ("first", "second"):
            sink = MemorySink()
            running = jobs.run(models["train-sleeper"], job("train-sleeper", tag=tag), sink)
            running.start()
            assert await asyncio.wait_for(running.wait(), GUARD) == 0
            [(_, outcome)] = sink.reports
            assert isinstance(outcome, Outcome)
            pids.append(json.loads(outcome.output)["pid"])
            assert f"training {tag} to stdout" in sink.text
        assert len(set(pids)) == 2  # each process is used once
    finally:
        await jobs.close()


@pytest.mark.parametrize(
    ("exitcode", "message"),
    [
        (-signal.SIGKILL, "Training process was killed by signal SIGKILL (out of memory?)"),
        (
            -signal.SIGXFSZ,
            "Training process was killed by signal SIGXFSZ (a file grew past the file size limit)",
        ),
        (120, "Training process exited with code 120"),
    ],
)
def test_how_an_exit_is_described(exitcode: int, message: str) -> None:
    assert describe_exit(job("train-busy"), exitcode) == message
