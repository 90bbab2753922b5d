"""The training log's cap: the head and the tail are kept, and the cut is said."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from deepaas_lite.training.log import CappedLog
from deepaas_lite.training.manager import TrainingManager
from tests.training.conftest import ManagerFactory, wait_for

LINE = 100  # bytes per line of train-chatty


def lines(count: int, start: int = 0) -> list[bytes]:
    return [f"{n:09d}\n".encode() for n in range(start, start + count)]  # 10 bytes each


def cut_of(text: str) -> int:
    (cut,) = re.findall(r"\[\.\.\. (\d+) bytes cut \.\.\.\]", text)
    return int(cut)


def test_under_the_cap_the_log_is_what_was_written(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "log", max_bytes=1000)
    for line in lines(100):
        log.write(line)
    log.close()

    assert (tmp_path / "log").read_bytes() == b"".join(lines(100))
    assert log.cut == 0


def test_over_the_cap_head_and_tail_are_kept_and_the_cut_is_said(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "log", max_bytes=1000)
    written = lines(10_000)
    for line in written:
        log.write(line)
    log.close()

    text = (tmp_path / "log").read_text()
    head, marker, tail = text.partition(f"\n[... {log.cut} bytes cut ...]\n")
    assert marker
    assert head.encode() == b"".join(written)[:500]
    assert b"".join(written).endswith(tail.encode())
    assert 250 <= len(tail) <= 500
    assert len(head) + log.cut + len(tail) == 100_000
    assert len(text) <= 1000 + len(marker)


def test_a_write_bigger_than_the_cap(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "log", max_bytes=100)
    log.write(b"a" * 50 + b"b" * 10_000 + b"c" * 25)
    log.close()

    assert (
        tmp_path / "log"
    ).read_bytes() == b"a" * 50 + b"\n[... 10000 bytes cut ...]\n" + b"c" * 25


def test_no_cap(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "log", max_bytes=0)
    for line in lines(10_000):
        log.write(line)
    log.close()

    assert (tmp_path / "log").stat().st_size == 100_000


async def test_a_chatty_training_log_is_capped(
    make_manager: ManagerFactory,
) -> None:
    manager: TrainingManager = await make_manager(log_max_bytes=10_000)
    record = await manager.submit("train-chatty", {"tag": "5000"})  # 500 kB

    record = await wait_for(manager, "train-chatty", record["uuid"])

    assert record["status"] == "done", record
    text = (await manager.log_path("train-chatty", record["uuid"])).read_text()
    head, _, tail = text.partition("\n[... ")
    assert head.startswith("line 00000000 ")
    assert tail.rstrip().endswith("line 00004999 " + "." * 85)
    assert len(head) == 5000
    assert len(text) < 10_100
    assert len(head) + cut_of(text) + len(tail.split("...]\n", 1)[1]) == 5000 * LINE


async def test_a_log_is_complete_when_its_record_ends(manager: TrainingManager) -> None:
    record = await manager.submit("train-chatty", {"tag": "2000"})

    record = await wait_for(manager, "train-chatty", record["uuid"])

    text = (await manager.log_path("train-chatty", record["uuid"])).read_text()
    assert len(text) == 2000 * LINE
    assert text.splitlines()[-1].startswith("line 00001999 ")


async def test_a_log_that_cannot_be_written_does_not_stop_the_training(
    manager: TrainingManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: CappedLog, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(CappedLog, "write", full)
    # 200 kB: more than a pipe holds, so the training would block if nobody read it.
    record = await manager.submit("train-chatty", {"tag": "2000"})

    record = await wait_for(manager, "train-chatty", record["uuid"])

    assert record["status"] == "done", record
    assert record["result"]["output"] == "talked"
