"""Training processes: cancelling them, and surviving them when they die."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from deepaas_lite import exceptions
from deepaas_lite.training.manager import TrainingManager
from tests.training.conftest import (
    ManagerFactory,
    is_gone,
    wait_for,
    wait_for_file,
    wait_gone,
)


async def start_and_read_pids(
    manager: TrainingManager, model_id: str, tmp_path: Path
) -> tuple[str, list[int]]:
    pidfile = tmp_path / f"{model_id}.pid"
    record = await manager.submit(model_id, {"pidfile": str(pidfile)})
    pids = [int(pid) for pid in (await wait_for_file(pidfile)).split()]
    return record["uuid"], pids


async def test_cancel_stops_a_cpu_busy_training_within_two_seconds(
    manager: TrainingManager, tmp_path: Path
) -> None:
    uuid, [pid] = await start_and_read_pids(manager, "train-busy", tmp_path)
    assert not is_gone(pid)  # the training's process is running its endless loop

    started = time.monotonic()
    record = await manager.cancel("train-busy", uuid)
    await wait_gone([pid], timeout=2.0 - (time.monotonic() - started))

    assert record["status"] == "cancelled"
    assert record["result"]["finish_date"]
    assert [r["uuid"] for r in await manager.list("train-busy")] == [uuid]
    assert (await manager.get("train-busy", uuid))["status"] == "cancelled"


async def test_cancel_kills_what_the_training_started(
    manager: TrainingManager, tmp_path: Path
) -> None:
    uuid, pids = await start_and_read_pids(manager, "train-spawner", tmp_path)
    grandchild = psutil.Process(pids[1])
    assert grandchild.is_running()

    started = time.monotonic()
    await manager.cancel("train-spawner", uuid)
    await wait_gone(pids, timeout=2.0 - (time.monotonic() - started))


async def test_cancel_kills_a_training_that_ignores_sigterm(
    manager: TrainingManager, tmp_path: Path
) -> None:
    uuid, pids = await start_and_read_pids(manager, "train-stubborn", tmp_path)

    started = time.monotonic()
    record = await manager.cancel("train-stubborn", uuid)
    await wait_gone(pids, timeout=2.0 - (time.monotonic() - started))
    assert record["status"] == "cancelled"


async def test_cancel_a_pending_training(manager: TrainingManager, tmp_path: Path) -> None:
    running, _ = await start_and_read_pids(manager, "train-busy", tmp_path)
    pending = await manager.submit("train-sleeper", {"tag": "never"})
    assert pending["status"] == "pending"

    record = await manager.cancel("train-sleeper", pending["uuid"])

    assert record["status"] == "cancelled"
    await manager.cancel("train-busy", running)
    assert (await manager.get("train-sleeper", pending["uuid"]))["status"] == "cancelled"
    # It never ran: it printed nothing, so it has no log.
    assert not (await manager.log_path("train-sleeper", pending["uuid"])).exists()


async def test_cancel_errors(manager: TrainingManager) -> None:
    record = await manager.submit("train-sleeper", {})
    await wait_for(manager, "train-sleeper", record["uuid"], "done")

    with pytest.raises(exceptions.TrainingFinished):
        await manager.cancel("train-sleeper", record["uuid"])
    with pytest.raises(exceptions.TrainingNotFound):
        await manager.cancel("train-sleeper", "0" * 32)
    with pytest.raises(exceptions.TrainingNotFound):
        await manager.cancel("train-busy", record["uuid"])
    with pytest.raises(exceptions.ModelNotFound):
        await manager.cancel("no-such-model", record["uuid"])
    assert (await manager.get("train-sleeper", record["uuid"]))["status"] == "done"


async def test_an_exception_in_train_is_an_error_with_its_message(
    manager: TrainingManager,
) -> None:
    record = await manager.submit("train-raiser", {"tag": "(0.5)"})
    record = await wait_for(manager, "train-raiser", record["uuid"])

    assert record["status"] == "error"
    assert record["message"] == "learning rate too high (0.5)"
    log = (await manager.log_path("train-raiser", record["uuid"])).read_text()
    assert "Traceback" in log
    assert "ValueError: learning rate too high (0.5)" in log


async def test_a_training_that_exits_is_an_error_naming_the_code(
    manager: TrainingManager,
) -> None:
    record = await manager.submit("train-exiter", {})
    record = await wait_for(manager, "train-exiter", record["uuid"])

    assert record["status"] == "error"
    assert record["message"] == "Training process exited with code 3"
    assert "about to exit" in (await manager.log_path("train-exiter", record["uuid"])).read_text()


async def test_a_training_killed_by_sigkill_is_an_error_naming_the_signal(
    manager: TrainingManager,
) -> None:
    record = await manager.submit("train-self-killer", {})
    record = await wait_for(manager, "train-self-killer", record["uuid"])

    assert record["status"] == "error"
    assert "SIGKILL" in record["message"]


async def test_the_manager_stays_healthy_after_crashes(
    manager: TrainingManager,
) -> None:
    crashes = [
        await manager.submit(model_id, {})
        for model_id in ("train-exiter", "train-self-killer", "train-raiser")
    ]
    healthy = await manager.submit("train-sleeper", {"tag": "after"})

    record = await wait_for(manager, "train-sleeper", healthy["uuid"])

    assert record["status"] == "done"
    assert record["result"]["output"]["tag"] == "after"
    for crash, model_id in zip(
        crashes, ("train-exiter", "train-self-killer", "train-raiser"), strict=True
    ):
        assert (await manager.get(model_id, crash["uuid"]))["status"] == "error"


async def test_what_a_training_leaves_behind_is_killed_when_it_ends(
    manager: TrainingManager, tmp_path: Path
) -> None:
    uuid, pids = await start_and_read_pids(manager, "train-leaver", tmp_path)
    record = await wait_for(manager, "train-leaver", uuid)

    assert record["status"] == "done"
    assert record["result"]["output"] == "left one behind"
    await wait_gone(pids, timeout=2.0)


async def test_close_interrupts_running_trainings_and_leaves_no_process(
    make_manager: ManagerFactory, tmp_path: Path
) -> None:
    manager = await make_manager(workers=2)
    busy, busy_pids = await start_and_read_pids(manager, "train-busy", tmp_path)
    spawner, spawner_pids = await start_and_read_pids(manager, "train-spawner", tmp_path)
    pending = await manager.submit("train-sleeper", {})

    started = time.monotonic()
    await manager.close()
    assert time.monotonic() - started < 2.0
    assert all(is_gone(pid) for pid in busy_pids + spawner_pids)

    again = await make_manager(workers=2)
    assert (await again.get("train-busy", busy))["status"] == "interrupted"
    assert (await again.get("train-spawner", spawner))["status"] == "interrupted"
    record = await wait_for(again, "train-sleeper", pending["uuid"])
    assert record["status"] == "done"
