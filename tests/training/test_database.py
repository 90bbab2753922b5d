"""The store's thread: the counts that metrics read without waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from deepaas_lite.training.database import Database
from deepaas_lite.training.records import Status, Store


async def test_the_counts_change_with_a_write_before_any_later_read(tmp_path: Path) -> None:
    # A read queued behind a write (a GET of the record) must never see the new status
    # while the counts (the /metrics gauge) still hold the old one.
    db = Database(tmp_path / "state.db")
    await db.open()
    try:
        await db.write(Store.add, "u1", "m", "{}", b"")
        assert db.status_counts == {"m": {Status.PENDING: 1}}
        written = asyncio.create_task(db.write(Store.start, "u1"))
        await asyncio.sleep(0)  # the write is on the store's thread, or queued there
        record = await db.call(Store.get, "u1")
        assert record is not None and record.status == Status.RUNNING
        assert db.status_counts == {"m": {Status.RUNNING: 1}}
        assert await written
    finally:
        await db.close()
