"""When the disk or the store fails, when the queue is full, when a training runs too long."""

from __future__ import annotations

import errno
import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import deepaas_lite
from deepaas_lite import exceptions
from deepaas_lite.training import inputs
from deepaas_lite.training.manager import TrainingManager
from deepaas_lite.training.records import Store
from tests.training.conftest import ManagerFactory, wait_for, wait_gone


def upload(tmp_path: Path, name: str, size: int = 1000) -> deepaas_lite.UploadedFile:
    path = tmp_path / f"caller-{name[:20]}-{size}"
    path.write_bytes(b"x" * size)
    return deepaas_lite.UploadedFile("data", str(path), "text/csv", name)


def left_in(state_dir: Path) -> list[str]:
    """The files in the state directory besides the database."""
    return sorted(
        str(path.relative_to(state_dir))
        for path in state_dir.rglob("*")
        if path.is_file() and not path.name.startswith("trainings.sqlite3")
    )


async def test_a_file_name_too_long_for_the_disk_is_not_an_error(
    manager: TrainingManager, tmp_path: Path
) -> None:
    name = "a" * 296 + ".csv"

    record = await manager.submit("train-files", {"data": upload(tmp_path, name)})

    assert record["args"]["data"]["original_filename"] == name
    record = await wait_for(manager, "train-files", record["uuid"])
    assert record["status"] == "done", record
    assert record["result"]["output"]["files"][0]["original_filename"] == name


async def test_a_full_disk_while_copying_inputs_leaves_nothing_behind(
    manager: TrainingManager, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []
    real_copy = shutil.copyfile

    def copy_then_fill_the_disk(source: str, target: Path) -> None:
        if copied:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_copy(source, target)  # the first file is copied, the second is not
        copied.append(str(target))

    monkeypatch.setattr(inputs.shutil, "copyfile", copy_then_fill_the_disk)
    files = [upload(tmp_path, "one.csv"), upload(tmp_path, "two.csv")]

    with pytest.raises(exceptions.StorageFailed, match="No space left on device"):
        await manager.submit("train-files", {"more": files})

    assert copied and not Path(copied[0]).exists()
    assert left_in(state_dir) == []
    assert await manager.list("train-files") == []


async def test_a_store_that_cannot_add_the_record_leaves_no_files(
    manager: TrainingManager, state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "add", full)

    with pytest.raises(exceptions.StorageFailed, match="database or disk is full"):
        await manager.submit("train-files", {"data": upload(tmp_path, "one.csv")})

    assert left_in(state_dir) == []
    assert await manager.list("train-files") == []


def fail_for_a_while(monkeypatch: pytest.MonkeyPatch, name: str, times: int) -> Callable[[], int]:
    """Make ``Store.<name>`` raise "disk full" ``times`` times; the count of failures."""
    original = getattr(Store, name)
    failures = 0

    def flaky(self: Store, *args: Any, **kwargs: Any) -> Any:
        nonlocal failures
        if failures < times:
            failures += 1
            raise sqlite3.OperationalError("database or disk is full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, name, flaky)
    return lambda: failures


@pytest.mark.parametrize("method", ["finish_from_outcome", "start", "pending"])
async def test_a_training_ends_and_the_queue_goes_on_once_the_store_works_again(
    manager: TrainingManager, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, method: str
) -> None:
    release = tmp_path / "release"
    first = await manager.submit("train-progress", {"release": str(release)})
    second = await manager.submit("train-sleeper", {"tag": "next"})
    assert second["status"] == "pending"
    await wait_for(manager, "train-progress", first["uuid"], "running")
    failures = fail_for_a_while(monkeypatch, method, times=3)

    release.touch()  # the first ends while the store is "full"

    first = await wait_for(manager, "train-progress", first["uuid"])
    second = await wait_for(manager, "train-sleeper", second["uuid"])
    assert failures() == 3
    assert first["status"] == "done", first
    assert second["status"] == "done", second
    assert second["result"]["output"]["tag"] == "next"


async def test_a_failing_supervisor_ends_the_record_with_the_reason(
    manager: TrainingManager, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pidfile = tmp_path / "busy.pid"
    broken = RuntimeError("the supervisor broke")

    async def wait(self: Any) -> int:
        raise broken

    monkeypatch.setattr("deepaas_lite.engine.processes.jobs.JobProcess.wait", wait)
    record = await manager.submit("train-busy", {"pidfile": str(pidfile)})

    record = await wait_for(manager, "train-busy", record["uuid"])

    assert record["status"] == "error"
    assert record["message"] == "Training supervision failed: the supervisor broke"


async def test_the_store_is_used_off_the_event_loop_on_one_thread(
    manager: TrainingManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[int] = set()
    for name in (
        "add",
        "get",
        "of_model",
        "pending",
        "start",
        "finish",
        "finish_from_outcome",
        "prune",
    ):
        original = getattr(Store, name)

        def spy(self: Store, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            threads.add(threading.get_ident())
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Store, name, spy)

    record = await manager.submit("train-sleeper", {})
    await wait_for(manager, "train-sleeper", record["uuid"])
    await manager.list("train-sleeper")

    assert len(threads) == 1
    assert threading.get_ident() not in threads


async def test_beyond_the_queue_limit_a_submit_is_refused_and_leaves_nothing(
    make_manager: ManagerFactory, state_dir: Path, tmp_path: Path
) -> None:
    manager = await make_manager(queue_max=2)
    release = tmp_path / "release"
    running = await manager.submit("train-progress", {"release": str(release)})
    pending = [await manager.submit("train-sleeper", {"tag": str(n)}) for n in range(2)]
    before = left_in(state_dir)

    with pytest.raises(exceptions.TrainingQueueFull) as refused:
        await manager.submit("train-files", {"data": upload(tmp_path, "one.csv")})

    assert refused.value.retry_after > 0
    assert "queue is full" in refused.value.message
    assert left_in(state_dir) == before
    assert await manager.list("train-files") == []
    release.touch()
    for record in pending:
        assert (await wait_for(manager, "train-sleeper", record["uuid"]))["status"] == "done"
    await wait_for(manager, "train-progress", running["uuid"])
    assert (await manager.submit("train-sleeper", {}))["status"] in {"running", "pending"}


async def test_a_training_past_its_models_timeout_ends_in_error(
    make_manager: ManagerFactory, tmp_path: Path
) -> None:
    manager = await make_manager(timeouts={"train-spawner": 0.5})
    pidfile = tmp_path / "spawner.pid"
    record = await manager.submit("train-spawner", {"pidfile": str(pidfile)})

    record = await wait_for(manager, "train-spawner", record["uuid"])

    assert record["status"] == "error"
    assert record["message"] == "Training exceeded the 0.5 s timeout"
    # On a loaded machine the time may run out before the plugin wrote its pids; if it
    # did, the training and the process it started are gone with it.
    if pidfile.exists():
        await wait_gone([int(pid) for pid in pidfile.read_text().split()], timeout=5)
    other = await manager.submit("train-sleeper", {})  # other models have no timeout
    assert (await wait_for(manager, "train-sleeper", other["uuid"]))["status"] == "done"


async def test_a_submit_stored_while_a_training_cannot_start_answers_and_starts_later(
    manager: TrainingManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = fail_for_a_while(monkeypatch, "start", times=3)

    record = await manager.submit("train-sleeper", {"tag": "later"})

    assert record["status"] == "pending"
    record = await wait_for(manager, "train-sleeper", record["uuid"])
    assert failures() == 3
    assert record["status"] == "done", record
