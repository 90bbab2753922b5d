"""The store seen from the event loop: every SQLite call runs on one dedicated thread.

The connection is opened on that thread and only ever used there, so SQLite's
one-thread-per-connection rule holds and the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from deepaas_lite.training.records import TRAININGS, Kind, Status, Store

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """A ``Store`` on its own thread; ``call`` runs one of its methods there."""

    def __init__(self, path: Path, kind: Kind = TRAININGS) -> None:
        self.path = path
        self.kind = kind
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepaas-store")
        self._store: Store | None = None
        self.status_counts: dict[str, dict[Status, int]] = {}

    async def open(self) -> None:
        self._store = await self._run(Store, self.path, self.kind)

    async def call(
        self, method: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``method(store, *args)`` on the store's thread."""
        store = self._open()
        return await self._run(lambda: method(store, *args, **kwargs))

    async def write(
        self, method: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like ``call``, refreshing ``status_counts`` (read by metrics without waiting) on
        the store's thread before any later call there: nothing reads a record that the
        counts do not have yet."""
        store = self._open()

        def write_and_count() -> T:
            try:
                return method(store, *args, **kwargs)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    self.status_counts = store.status_counts()

        return await self._run(write_and_count)

    def _open(self) -> Store:
        if self._store is None:
            raise RuntimeError("the database is not open")
        return self._store

    async def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            await self._run(store.close)
        self._thread.shutdown(wait=True)

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.wrap_future(self._thread.submit(function, *args))
