"""The training manager: records, scheduling, progress, logs, files, retention."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import deepaas_lite
from deepaas_lite import exceptions
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training.manager import TrainingManager
from deepaas_lite.training.records import Status
from deepaas_lite.training.versions import Versions
from tests.training.conftest import ManagerFactory, wait_for


def parse_duration(text: str) -> timedelta:
    hours, minutes, seconds = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def run_interval(record: dict[str, Any]) -> tuple[datetime, datetime]:
    """When the training started and finished running (not queueing)."""
    finish = datetime.fromisoformat(record["result"]["finish_date"])
    return finish - parse_duration(record["result"]["duration"]), finish


async def test_a_training_runs_and_its_record_has_the_deepaas_shape(
    manager: TrainingManager,
) -> None:
    submitted = await manager.submit("train-sleeper", {"sleep": 0.2, "tag": "shape"})

    assert set(submitted) == {"uuid", "date", "status", "args", "result"}
    assert re.fullmatch(r"[0-9a-f]{32}", submitted["uuid"])
    assert submitted["status"] == "running"
    assert submitted["args"] == {"sleep": 0.2, "tag": "shape"}
    assert submitted["result"] == {}
    datetime.fromisoformat(submitted["date"])

    record = await wait_for(manager, "train-sleeper", submitted["uuid"])

    assert set(record) == {"uuid", "date", "status", "args", "result"}
    assert record["status"] == "done"
    assert record["date"] == submitted["date"]
    assert set(record["result"]) == {"output", "finish_date", "duration"}
    assert record["result"]["output"]["tag"] == "shape"
    start, finish = run_interval(record)
    assert start >= datetime.fromisoformat(record["date"])
    assert timedelta(seconds=0.2) <= finish - start < timedelta(seconds=10)
    assert await manager.list("train-sleeper") == [record]


async def test_submit_list_get_and_log_path_errors(manager: TrainingManager) -> None:
    with pytest.raises(exceptions.ModelNotFound):
        await manager.submit("no-such-model", {})
    with pytest.raises(exceptions.NotImplementedByModel):
        await manager.submit("bare", {})
    with pytest.raises(exceptions.ModelNotFound):
        await manager.list("no-such-model")
    with pytest.raises(exceptions.TrainingNotFound):
        await manager.get("train-sleeper", "f" * 32)
    with pytest.raises(exceptions.TrainingNotFound):
        await manager.log_path("train-sleeper", "f" * 32)
    record = await manager.submit("train-sleeper", {})
    with pytest.raises(exceptions.TrainingNotFound):
        await manager.get("train-raiser", record["uuid"])
    assert await manager.list("bare") == []


async def test_twenty_trainings_on_two_workers_start_in_submission_order(
    make_manager: ManagerFactory,
) -> None:
    manager = await make_manager(workers=2)
    submitted = [await manager.submit("train-sleeper", {"tag": str(n)}) for n in range(20)]
    assert [r["status"] for r in submitted[:2]] == ["running", "running"]
    assert {r["status"] for r in submitted[2:]} == {"pending"}

    done = [await wait_for(manager, "train-sleeper", r["uuid"], timeout=60) for r in submitted]

    assert [r["status"] for r in done] == ["done"] * 20
    assert [r["result"]["output"]["tag"] for r in done] == [str(n) for n in range(20)]
    assert [r["uuid"] for r in await manager.list("train-sleeper")] == [
        r["uuid"] for r in submitted
    ]
    intervals = [run_interval(r) for r in done]
    starts = [start for start, _ in intervals]
    assert starts == sorted(starts)
    for start, _ in intervals:
        overlapping = [1 for s, f in intervals if s <= start < f]
        assert len(overlapping) <= 2


async def test_the_event_loop_serves_other_work_while_trainings_run(
    make_manager: ManagerFactory, tmp_path: Path
) -> None:
    """Trainings that end only when told to: if waiting for them blocked the loop,
    the other work could not run before they end (and they would never end)."""
    manager = await make_manager(workers=2)
    release = tmp_path / "release"
    records = [await manager.submit("train-progress", {"release": str(release)}) for _ in range(2)]
    for record in records:
        await wait_for_progress(manager, record["uuid"], 0.5)

    async def other_work() -> int:
        for _ in range(100):
            await asyncio.sleep(0)
        return len(await manager.list("train-progress"))

    assert await asyncio.wait_for(other_work(), 20) == 2
    for record in records:
        assert (await manager.get("train-progress", record["uuid"]))["status"] == "running"
    release.touch()
    for record in records:
        assert (await wait_for(manager, "train-progress", record["uuid"]))["status"] == "done"


async def wait_for_progress(manager: TrainingManager, uuid: str, fraction: float) -> None:
    deadline = time.monotonic() + 20
    while (await manager.get("train-progress", uuid)).get("progress", {}).get(
        "fraction"
    ) != fraction:
        assert time.monotonic() < deadline, await manager.get("train-progress", uuid)
        await asyncio.sleep(0.02)


async def test_progress_is_on_the_record_while_it_runs(
    manager: TrainingManager, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    record = await manager.submit("train-progress", {"release": str(release)})
    uuid = record["uuid"]

    await wait_for_progress(manager, uuid, 0.5)
    running = await manager.get("train-progress", uuid)
    assert running["status"] == "running"
    assert running["progress"] == {"fraction": 0.5, "message": "halfway"}

    release.touch()
    record = await wait_for(manager, "train-progress", uuid)

    assert record["status"] == "done"
    assert record["progress"] == {"fraction": 1.0, "message": ""}


def test_report_progress_outside_a_training() -> None:
    deepaas_lite.report_progress(0.5, "nobody listens")
    with pytest.raises(ValueError):
        deepaas_lite.report_progress(1.5)


async def test_the_log_holds_stdout_and_stderr(manager: TrainingManager) -> None:
    record = await manager.submit("train-sleeper", {"tag": "chatty"})
    await wait_for(manager, "train-sleeper", record["uuid"])

    log = (await manager.log_path("train-sleeper", record["uuid"])).read_text()

    assert "training chatty to stdout" in log
    assert "training chatty to stderr" in log


async def test_the_log_holds_a_grandchilds_output_while_it_runs(
    manager: TrainingManager,
) -> None:
    record = await manager.submit("train-spawner", {})
    log = await manager.log_path("train-spawner", record["uuid"])

    deadline = time.monotonic() + 20
    while not (log.exists() and "says hello" in log.read_text()):
        assert time.monotonic() < deadline, "the grandchild's output never arrived"
        await asyncio.sleep(0.02)
    assert (await manager.get("train-spawner", record["uuid"]))["status"] == "running"

    await manager.cancel("train-spawner", record["uuid"])
    assert "says hello" in log.read_text()


async def test_finished_records_beyond_history_are_pruned_with_their_logs(
    make_manager: ManagerFactory,
) -> None:
    manager = await make_manager(history=2)
    records = [await manager.submit("train-sleeper", {"tag": str(n)}) for n in range(4)]
    other = await manager.submit("train-raiser", {})
    logs = [await manager.log_path("train-sleeper", r["uuid"]) for r in records]
    await wait_for(manager, "train-raiser", other["uuid"])

    deadline = time.monotonic() + 10
    while len(await manager.list("train-sleeper")) > 2:
        assert time.monotonic() < deadline, await manager.list("train-sleeper")
        await asyncio.sleep(0.02)

    assert [r["uuid"] for r in await manager.list("train-sleeper")] == [
        r["uuid"] for r in records[2:]
    ]
    assert [path.exists() for path in logs] == [False, False, True, True]
    assert len(await manager.list("train-raiser")) == 1
    with pytest.raises(exceptions.TrainingNotFound):
        await manager.get("train-sleeper", records[0]["uuid"])


async def test_file_arguments_are_copied_and_removed_after_the_training(
    manager: TrainingManager, state_dir: Path, tmp_path: Path
) -> None:
    def upload(name: str, content: str, original: str) -> deepaas_lite.UploadedFile:
        path = tmp_path / f"caller-{name}-{len(content)}"
        path.write_text(content)
        return deepaas_lite.UploadedFile(name, str(path), "text/csv", original)

    data = upload("data", "a,b\n1,2\n", "../../train data.csv")
    more = [upload("more", "x", "x.txt"), upload("more", "yy", "y.txt")]

    record = await manager.submit("train-files", {"data": data, "more": more, "epochs": 2})
    for caller_file in [data, *more]:
        Path(caller_file.filename).unlink()

    assert record["args"] == {
        "data": {
            "original_filename": "../../train data.csv",
            "content_type": "text/csv",
        },
        "more": [
            {"original_filename": "x.txt", "content_type": "text/csv"},
            {"original_filename": "y.txt", "content_type": "text/csv"},
        ],
        "epochs": 2,
    }
    record = await wait_for(manager, "train-files", record["uuid"])
    assert record["status"] == "done", record
    files = record["result"]["output"]["files"]
    assert [f["content"] for f in files] == ["a,b\n1,2\n", "x", "yy"]
    assert [f["original_filename"] for f in files] == [
        "../../train data.csv",
        "x.txt",
        "y.txt",
    ]
    copies = [Path(f["path"]) for f in files]
    for copy in copies:
        assert copy.resolve().is_relative_to(state_dir.resolve())
    deadline = time.monotonic() + 10
    while any(copy.exists() for copy in copies):
        assert time.monotonic() < deadline, "the copies were not removed"
        await asyncio.sleep(0.02)
    assert not copies[0].parent.exists()


class _HeldVersions(Versions):
    """Versions whose handling of an ended training waits for ``release``; the
    training it handled then holds the current version (it may not be removed)."""

    def __init__(self, models: dict[str, ModelWrapper]) -> None:
        super().__init__(models)
        self.told = asyncio.Event()
        self.release = asyncio.Event()
        self.current: str | None = None

    async def ended(self, model_id: str, uuid: str, status: Status) -> None:
        self.told.set()
        await self.release.wait()
        self.current = uuid

    async def removable(self, model_id: str, uuid: str) -> None:
        if uuid == self.current:
            raise exceptions.VersionInUse(f"Training '{uuid}' wrote the current version")


async def test_a_done_training_is_removed_only_once_its_end_is_handled(
    make_manager: ManagerFactory, training_models: dict[str, ModelWrapper]
) -> None:
    """Its record reads ``done`` before its version is current: a DELETE in between
    waits, and is refused (409) as for any training holding the current version."""
    versions = _HeldVersions(training_models)
    manager = await make_manager(versions=versions)
    uuid = (await manager.submit("train-sleeper", {"sleep": 0.0}))["uuid"]
    await asyncio.wait_for(versions.told.wait(), 20)
    assert (await manager.get("train-sleeper", uuid))["status"] == "done"

    deleting = asyncio.create_task(manager.delete("train-sleeper", uuid))
    await asyncio.sleep(0.2)  # time to remove it, were it not held
    versions.release.set()

    with pytest.raises(exceptions.VersionInUse):
        await asyncio.wait_for(deleting, 20)
    assert (await manager.get("train-sleeper", uuid))["status"] == "done"
