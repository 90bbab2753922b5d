"""Child processes: their end seen without reaping them, and stopped with their group."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from deepaas_lite.engine.children import SPAWN, Child, describe_exit

GUARD = 30.0  # seconds before a test that would hang fails instead


def _exit_with(code: int) -> None:
    os._exit(code)


def _lead_a_group(pidfile: str) -> None:
    """Lead a group of its own, start a grandchild in it, then wait to be stopped."""
    os.setsid()
    grandchild = subprocess.Popen(["sleep", "600"])
    Path(pidfile).write_text(str(grandchild.pid))
    time.sleep(600)


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "thread"])
async def test_an_exit_is_seen_without_reaping(
    pidfd: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pidfd:
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    child = Child(SPAWN.Process(target=_exit_with, args=(3,)))
    child.start()
    assert child.pid is not None
    assert await child.wait(GUARD)
    assert not child.alive
    assert _is_zombie(child.pid)  # not reaped: its pid cannot be reused yet
    assert child.reap() == 3
    assert not psutil.pid_exists(child.pid) or not _is_zombie(child.pid)
    assert child.reap() == 3  # once reaped, the code is kept


async def test_stop_ends_the_group_it_leads(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    child = Child(SPAWN.Process(target=_lead_a_group, args=(str(pidfile),)), group=True)
    child.start()
    async with asyncio.timeout(GUARD):
        while not pidfile.exists() or not pidfile.read_text():
            await asyncio.sleep(0.05)
    grandchild = psutil.Process(int(pidfile.read_text()))
    await asyncio.wait_for(child.stop(grace=0.5), GUARD)
    assert not child.alive
    assert child.reap() == -signal.SIGTERM
    async with asyncio.timeout(GUARD):  # killed with its group
        while psutil.pid_exists(grandchild.pid) and not _is_zombie(grandchild.pid):
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("exitcode", "what", "described"),
    [
        (-signal.SIGKILL, None, "signal 9, SIGKILL"),
        (7, None, "exit code 7"),
        (-signal.SIGKILL, "Worker", "Worker was killed by signal SIGKILL (out of memory?)"),
        (-signal.SIGTERM, "Worker", "Worker was killed by signal SIGTERM"),
        (0, "Worker", "Worker exited with code 0"),
    ],
)
def test_how_an_exit_is_described(exitcode: int, what: str | None, described: str) -> None:
    assert describe_exit(exitcode, what) == described
