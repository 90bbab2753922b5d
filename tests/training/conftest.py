"""Fixtures for the training tests: real managers on a temporary state directory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from deepaas_lite.model import loading
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training.manager import TrainingManager

TRAINING_PLUGINS = [
    "train-sleeper",
    "train-busy",
    "train-spawner",
    "train-stubborn",
    "train-leaver",
    "train-exiter",
    "train-self-killer",
    "train-raiser",
    "train-progress",
    "train-files",
    "train-chatty",
    "bare",
]

ENDED = {"done", "error", "cancelled", "interrupted"}

ManagerFactory = Callable[..., Awaitable[TrainingManager]]


@pytest.fixture(scope="session")
def training_models() -> dict[str, ModelWrapper]:
    return loading.load_models(TRAINING_PLUGINS)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
async def make_manager(
    training_models: dict[str, ModelWrapper], state_dir: Path
) -> AsyncIterator[ManagerFactory]:
    """Start managers on ``state_dir``; every one is closed at the end of the test."""
    managers: list[TrainingManager] = []

    async def make(**kwargs: Any) -> TrainingManager:
        kwargs.setdefault("state_dir", state_dir)
        manager = TrainingManager(training_models, **kwargs)
        await manager.start()
        managers.append(manager)
        return manager

    yield make
    for manager in managers:
        await manager.close()


@pytest.fixture
async def manager(make_manager: ManagerFactory) -> TrainingManager:
    return await make_manager()


async def wait_for(
    manager: TrainingManager,
    model_id: str,
    uuid: str,
    statuses: str | set[str] | None = None,
    timeout: float = 20.0,
) -> dict[str, Any]:
    """Poll a record until its status is one of ``statuses`` (default: ended)."""
    wanted = {statuses} if isinstance(statuses, str) else set(statuses or ENDED)
    deadline = time.monotonic() + timeout
    while True:
        record = await manager.get(model_id, uuid)
        if record["status"] in wanted:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"still {record['status']}, wanted {wanted}: {record}")
        await asyncio.sleep(0.02)


async def wait_for_file(path: Path, timeout: float = 20.0) -> str:
    """Poll until ``path`` exists; its text."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        await asyncio.sleep(0.02)
    return path.read_text()


def is_gone(pid: int) -> bool:
    """The process no longer exists, or is a zombie (it runs no code)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def wait_gone(pids: list[int], timeout: float) -> float:
    """Seconds until every process in ``pids`` is gone; fails after ``timeout``."""
    start = time.monotonic()
    while not all(is_gone(pid) for pid in pids):
        if time.monotonic() - start > timeout:
            alive = [pid for pid in pids if not is_gone(pid)]
            raise AssertionError(f"processes {alive} still alive after {timeout}s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start
