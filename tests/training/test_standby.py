"""Training processes started ahead (``LocalJobs(standby=True)``): once a model has
trained, its next training runs in a process that was started, its plugin loaded,
before it was submitted; each such process is used once, and nothing outlives the
manager."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from deepaas_lite.engine.processes.jobs import LocalJobs
from deepaas_lite.training.manager import TrainingManager
from tests.training.conftest import ManagerFactory, is_gone, wait_for, wait_for_file, wait_gone


def job_processes() -> set[int]:
    """This process's live children that run a job (spawned: their command line names
    multiprocessing's spawn_main)."""
    return {
        child.pid
        for child in psutil.Process().children()
        if not is_gone(child.pid) and "spawn_main" in " ".join(child.cmdline())
    }


async def wait_for_children(count: int, timeout: float = 20.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while len(found := job_processes()) != count:
        assert time.monotonic() < deadline, f"{found}: not {count} job processes"
        await asyncio.sleep(0.02)
    return found


@pytest.fixture
async def standby(make_manager: ManagerFactory) -> TrainingManager:
    return await make_manager(executor=LocalJobs(standby=True))


async def train(manager: TrainingManager, tag: str) -> dict[str, Any]:
    record = await manager.submit("train-sleeper", {"tag": tag})
    record = await wait_for(manager, "train-sleeper", record["uuid"])
    assert record["status"] == "done", record
    return record


async def test_the_next_training_runs_in_the_process_started_ahead(
    standby: TrainingManager,
) -> None:
    first = await train(standby, "first")
    [ahead] = await wait_for_children(1)
    assert ahead != first["result"]["output"]["pid"]

    second = await train(standby, "second")

    assert second["result"]["output"]["pid"] == ahead
    log = (await standby.log_path("train-sleeper", second["uuid"])).read_text()
    assert "training second to stdout" in log
    assert "training second to stderr" in log
    [third_ahead] = await wait_for_children(1)
    assert third_ahead != ahead  # each is used once
    assert is_gone(ahead)


async def test_closing_ends_the_process_started_ahead(make_manager: ManagerFactory) -> None:
    manager = await make_manager(executor=LocalJobs(standby=True))
    await train(manager, "once")
    [ahead] = await wait_for_children(1)

    await manager.close()

    assert is_gone(ahead)


async def test_a_process_started_ahead_that_died_is_replaced(standby: TrainingManager) -> None:
    await train(standby, "first")
    [ahead] = await wait_for_children(1)
    os.kill(ahead, signal.SIGKILL)
    await wait_gone([ahead], timeout=5)

    record = await train(standby, "after")

    assert record["result"]["output"]["pid"] != ahead


async def test_a_training_in_a_process_started_ahead_is_cancelled_with_its_group(
    make_manager: ManagerFactory, tmp_path: Path
) -> None:
    manager = await make_manager(executor=LocalJobs(standby=True))
    first = await manager.submit("train-spawner", {"pidfile": str(tmp_path / "1.pid")})
    await wait_for_file(tmp_path / "1.pid")
    await manager.cancel("train-spawner", first["uuid"])
    ahead = await wait_for_children(1)

    second = await manager.submit("train-spawner", {"pidfile": str(tmp_path / "2.pid")})
    pids = [int(pid) for pid in (await wait_for_file(tmp_path / "2.pid")).split()]
    assert pids[0] in ahead
    started = time.monotonic()
    record = await manager.cancel("train-spawner", second["uuid"])

    await wait_gone(pids, timeout=2.0 - (time.monotonic() - started))
    assert record["status"] == "cancelled"


async def test_without_standby_no_process_is_left_between_trainings(
    manager: TrainingManager,
) -> None:
    await train(manager, "alone")

    assert job_processes() == set()
