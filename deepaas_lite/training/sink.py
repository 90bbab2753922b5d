"""Where a running job's reports go (the engine's ``JobSink``): onto its record in the
store, and into its log file.

``log`` writes the file (blocking, from the executor's thread); once the job has ended
the manager closes the sink, and what still comes is dropped. ``outcome`` is kept
whatever it takes (``keep`` retries a store that fails for a while): it decides how
the record ends. A progress that cannot be stored is only logged.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from deepaas_lite.engine.protocol import Outcome
from deepaas_lite.training.database import Database
from deepaas_lite.training.log import CappedLog
from deepaas_lite.training.records import Store

LOG = logging.getLogger(__name__)

Keep = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


class RecordSink:
    """The reports of job ``uuid``: on its record in ``db``, its output in ``log``."""

    def __init__(self, db: Database, uuid: str, log: CappedLog | None, keep: Keep) -> None:
        """``log`` ``None``: what the job prints is dropped (a kind that keeps no log)."""
        self._db = db
        self._uuid = uuid
        self._log = log
        self._keep = keep
        self._closed = False

    def log(self, data: bytes) -> None:
        if not self._closed and self._log is not None:
            self._log.write(data)

    async def progress(self, fraction: float, message: str) -> None:
        try:
            await self._db.call(Store.set_progress, self._uuid, fraction, message)
        except (sqlite3.Error, RuntimeError) as exc:
            LOG.warning("The progress of '%s' could not be stored: %s", self._uuid, exc)

    async def outcome(self, outcome: Outcome) -> None:
        await self._keep(
            f"store the outcome of '{self._uuid}'",
            lambda: self._db.call(
                Store.save_outcome, self._uuid, output=outcome.output, message=outcome.error
            ),
        )

    def close(self) -> None:
        """No more output: close the log file. Blocking."""
        self._closed = True
        if self._log is not None:
            self._log.close()
