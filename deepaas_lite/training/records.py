"""The job record (a training's, or another kind's) and its store: one SQLite database
in the state directory, a table per kind of job (``Kind``: ``TRAININGS``).

The database runs in WAL mode and every change is one transaction, so a crash at any
moment leaves a readable store. Only the server writes it: what a training reports
from where it runs reaches the record through its sink (``sink.py``); which column is
written for what, and when, is told above ``_SCHEMA``.

A record ends once: every end moves it out of ``pending`` or ``running`` and never out
of an ended status, so when a cancel and an exit race, the first one wins.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from deepaas_lite import exceptions


class Status(StrEnum):
    """Where a job (a training) is. Stored and answered as its value (``"pending"``, ...)."""

    PENDING = "pending"  # stored; starts when a slot is free and its model is served
    RUNNING = "running"  # its process (or Ray task) was started
    DONE = "done"  # train returned; what it returned is in ``output``
    ERROR = "error"  # train raised, or its process died, timed out or did not start
    CANCELLED = "cancelled"  # by a DELETE while pending or running
    INTERRUPTED = "interrupted"  # the server stopped (or crashed) while it ran

    @property
    def ended(self) -> bool:
        """Whether this status is final: a record that has it never changes again."""
        return self not in ACTIVE


ACTIVE = (Status.PENDING, Status.RUNNING)

# A record's state, and who writes it. The server writes every column, for two
# parties: itself (the manager) and the training, whose reports (its progress, then
# its outcome) its executor hands to the training's sink, wherever it runs (a local
# process, a Ray task).
#
# * ``status`` has one writer, the server: ``add`` (pending), ``start`` (pending ->
#   running) and the ends: ``finish`` (cancelled, interrupted at a stop, error when the
#   process could not start or was stopped by its timeout), ``finish_from_outcome``
#   (once the process has exited) and ``interrupt_running`` (at start-up). Each is one
#   UPDATE guarded by the status it leaves, so a record ends once: the first end wins.
# * The training reports ``progress`` while it runs, and, as its last act, its
#   ``outcome`` (``done`` or ``error``) with ``output`` (what train returned, as JSON)
#   or ``message`` (what it raised): ``save_outcome``. These writes are guarded by
#   ``status = 'running'``: once the server has ended a record, nothing the training
#   still reports lands on it.
# * ``message`` is written for both: the training's exception goes there, and an
#   end the server gives a reason (a timeout, a failed start, how a process that left
#   no outcome exited) replaces it; an end without one keeps it (``COALESCE``). It is
#   answered with ``error`` only.
#
# Why the training reports an outcome and not the status: the record must not read as
# ended before the server is done with the training. Once the process has exited, the
# server drains the rest of its output into the log file and removes its inputs, and
# only then ``finish_from_outcome`` turns the outcome into the status, in one UPDATE:
# ``done``, or ``error`` with train's message, or, with no outcome (the process was
# killed or exited first), ``error`` saying how the process exited. So a client that
# sees ``done`` reads the whole log; a cancel or a timeout the server decided is never
# overwritten by a process that finished at the same moment; and a process that dies
# without a word still gets an end, because the server, which sees it exit, writes
# every final status.
#
# What a crash leaves, and what the next start (``TrainingManager.start``) does:
# * The server stops or crashes with trainings pending: they stay pending, with their
#   inputs, and start again in submission order.
# * The server stops while a training runs: it marks the record interrupted, then
#   stops the process. It crashes: a local training's process kills its group once its
#   parent is gone (``engine/processes/job_main.py``); the record stays ``running``,
#   perhaps with an outcome that was never turned into the status; the next start marks it
#   ``interrupted`` (the outcome is not shown), removes its inputs and keeps its log.
# * The training's process crashes before reporting its outcome: the server sees the
#   exit and ends the record in ``error``, saying how ("killed by signal SIGKILL",
#   "exited with code 3"). After reporting it: the outcome stands.
# * A crash during any write leaves the record as it was before it (one transaction).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    model_id TEXT NOT NULL,
    date TEXT NOT NULL,
    status TEXT NOT NULL,
    args TEXT NOT NULL,
    kwargs BLOB NOT NULL,
    start_date TEXT,
    finish_date TEXT,
    outcome TEXT,
    output TEXT,
    message TEXT,
    progress TEXT,
    request_id TEXT,
    callback TEXT,
    call TEXT
);
CREATE INDEX IF NOT EXISTS {table}_by_model ON {table} (model_id, seq);
CREATE INDEX IF NOT EXISTS {table}_by_status ON {table} (status, seq);
"""

_COLUMNS = (
    "uuid, model_id, date, status, args, start_date, finish_date, "
    "outcome, output, message, progress, request_id, callback, call"
)


def now() -> str:
    """The current local time as DEEPaaS writes it: ``2026-02-04 13:14:49.655061``."""
    return str(datetime.now())


def to_json(value: Any) -> str:
    """JSON text for any value; values JSON cannot hold become their ``str``."""
    return json.dumps(value, default=str)


QUEUE_RETRY_AFTER = 30


@dataclass(frozen=True)
class Kind:
    """A kind of job whose records a store keeps: its table, its name (``Job.kind`` for
    the engine too, and the word its messages use), where its logs and inputs go under
    the state directory, and the errors its lookups and its queue raise."""

    table: str
    noun: str
    files: str = "."
    not_found: type[exceptions.DeepaasError] = exceptions.TrainingNotFound
    finished: type[exceptions.DeepaasError] = exceptions.TrainingFinished
    queue_full: Callable[[str, int], exceptions.DeepaasError] = exceptions.TrainingQueueFull

    @property
    def title(self) -> str:
        """The noun as a sentence starts with it: ``Training``."""
        return self.noun.capitalize()


TRAININGS = Kind("trainings", "training")


@dataclass(frozen=True)
class Record:
    """One row of the store."""

    uuid: str
    model_id: str
    date: str
    status: Status
    args: str
    start_date: str | None
    finish_date: str | None
    outcome: Status | None  # done or error, stored by the process (see _SCHEMA)
    output: str | None
    message: str | None
    progress: str | None
    request_id: str | None = None  # of the request that started it
    callback: str | None = None  # where the record goes when it ends (a webhook URL)
    call: str | None = None  # the job's call (``Job.kind``) when not its kind's own

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Record:
        """The record from a row of ``_COLUMNS``."""
        uuid, model_id, date, status, args, start, finish, outcome, *rest = row
        return cls(
            uuid,
            model_id,
            date,
            Status(status),
            args,
            start,
            finish,
            None if outcome is None else Status(outcome),
            *rest,
        )

    @property
    def ended(self) -> bool:
        return self.status.ended

    def as_dict(self) -> dict[str, Any]:
        """The record in the DEEPaaS shape."""
        record: dict[str, Any] = {
            "uuid": self.uuid,
            "date": self.date,
            "status": self.status.value,
            "args": json.loads(self.args),
            "result": self._result(),
        }
        if self.status is Status.ERROR and self.message is not None:
            record["message"] = self.message
        if self.status is Status.DONE and self.progress is not None:
            record["progress"] = {"fraction": 1.0, "message": ""}  # not its last report
        elif self.progress is not None:
            record["progress"] = json.loads(self.progress)
        if self.request_id is not None:
            record["request_id"] = self.request_id
        if self.callback is not None:
            record["callback"] = self.callback
        if self.call is not None:
            record["call"] = self.call
        return record

    def _result(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.status is Status.DONE and self.output is not None:
            result["output"] = json.loads(self.output)
        if self.finish_date is not None:
            result["finish_date"] = self.finish_date
            start = datetime.fromisoformat(self.start_date or self.finish_date)
            result["duration"] = str(datetime.fromisoformat(self.finish_date) - start)
        return result


def _add_new_columns(db: sqlite3.Connection, table: str) -> None:
    """A store written before records had ``request_id``, ``callback`` or ``call`` gets
    them (empty)."""
    columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for column in ("request_id", "callback", "call"):
        if column not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")


class Store:
    """The jobs of one kind (default: trainings) of every model, in ``path`` (an SQLite
    database)."""

    def __init__(self, path: Path, kind: Kind = TRAININGS) -> None:
        self.path = path
        self.kind = kind
        self._table = kind.table
        self._db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA.format(table=self._table))
            _add_new_columns(self._db, self._table)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def check(self) -> None:
        """Raise ``sqlite3.DatabaseError`` unless the whole database reads as ours."""
        (result,) = self._db.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
        self._db.execute(f"SELECT {_COLUMNS} FROM {self._table} LIMIT 1").fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Record]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM {self._table} WHERE {where} ORDER BY seq", params
        ).fetchall()
        return [Record.from_row(row) for row in rows]

    # Read by the server.

    def get(self, uuid: str) -> Record | None:
        rows = self._select("uuid = ?", (uuid,))
        return rows[0] if rows else None

    def of_model(self, model_id: str) -> list[Record]:
        """A model's trainings, oldest first."""
        return self._select("model_id = ?", (model_id,))

    def pending(self, model_ids: Collection[str] | None = None) -> list[Record]:
        """Pending trainings (of these models, default all), in submission order."""
        if model_ids is None:
            return self._select("status = ?", (Status.PENDING,))
        marks = ", ".join("?" * len(model_ids))
        return self._select(f"status = ? AND model_id IN ({marks})", (Status.PENDING, *model_ids))

    def status_counts(self) -> dict[str, dict[Status, int]]:
        """How many trainings each model has in each status."""
        counts: dict[str, dict[Status, int]] = {}
        rows = self._db.execute(
            f"SELECT model_id, status, COUNT(*) FROM {self._table} GROUP BY model_id, status"
        )
        for model_id, status, count in rows:
            counts.setdefault(model_id, {})[Status(status)] = count
        return counts

    def check_queue(self, max_pending: int) -> None:
        """Raise the kind's ``queue_full`` (``TrainingQueueFull``) when ``max_pending``
        (0: no limit) are pending."""
        if max_pending:
            self._check_queue(self._db, max_pending)

    def kwargs(self, uuid: str) -> bytes:
        """The pickled arguments ``train`` is called with."""
        row = self._db.execute(
            f"SELECT kwargs FROM {self._table} WHERE uuid = ?", (uuid,)
        ).fetchone()
        if row is None:
            raise KeyError(uuid)
        return bytes(row[0])

    # Written by the server.

    def add(
        self,
        uuid: str,
        model_id: str,
        args: str,
        kwargs: bytes,
        max_pending: int = 0,
        request_id: str | None = None,
        callback: str | None = None,
        call: str | None = None,
    ) -> Record:
        """Store a new pending job (``call``: its ``Job.kind``, when not the kind's own).

        Raises the kind's ``queue_full`` when ``max_pending`` (0: no limit) are
        already pending.
        """
        with self._transaction() as db:
            if max_pending:
                self._check_queue(db, max_pending)
            db.execute(
                f"INSERT INTO {self._table} "
                "(uuid, model_id, date, status, args, kwargs, request_id, callback, call) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uuid, model_id, now(), Status.PENDING, args, kwargs, request_id, callback, call),
            )
        training = self.get(uuid)
        assert training is not None
        return training

    def start(self, uuid: str) -> bool:
        """Mark a pending training running; False when it is no longer pending."""
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE {self._table} SET status = ?, start_date = ? "
                "WHERE uuid = ? AND status = ?",
                (Status.RUNNING, now(), uuid, Status.PENDING),
            )
        return cursor.rowcount == 1

    def finish(self, uuid: str, status: Status, message: str | None = None) -> bool:
        """End a pending or running training in ``status``; False when it had already
        ended. Without a ``message``, the one the process stored (if any) is kept.
        """
        if not status.ended:
            raise ValueError(f"{status} is not an end")
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE {self._table} SET status = ?, finish_date = ?, "
                "message = COALESCE(?, message) "
                "WHERE uuid = ? AND status IN (?, ?)",
                (status, now(), message, uuid, *ACTIVE),
            )
        return cursor.rowcount == 1

    def finish_from_outcome(self, uuid: str, exit_message: str) -> Record | None:
        """End a running training whose process has exited, as its outcome says.

        ``done``, or ``error`` with the message train raised; with no outcome (the
        process was killed, or exited before storing one), ``error`` with
        ``exit_message``. The ended record, or None when it had already ended (a cancel
        or a stop came first). The server's half of the handshake above ``_SCHEMA``.
        """
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE {self._table} SET status = COALESCE(outcome, ?), finish_date = ?, "
                "message = CASE WHEN outcome IS NULL THEN ? ELSE message END "
                "WHERE uuid = ? AND status = ?",
                (Status.ERROR, now(), exit_message, uuid, Status.RUNNING),
            )
            if cursor.rowcount != 1:
                return None
            return self._select("uuid = ?", (uuid,))[0]

    def interrupt_running(self) -> list[str]:
        """Mark every running training interrupted (after a stop or a crash)."""
        with self._transaction() as db:
            uuids = [
                row[0]
                for row in db.execute(
                    f"SELECT uuid FROM {self._table} WHERE status = ?", (Status.RUNNING,)
                )
            ]
            db.execute(
                f"UPDATE {self._table} SET status = ?, finish_date = ? WHERE status = ?",
                (Status.INTERRUPTED, now(), Status.RUNNING),
            )
        return uuids

    def prune(self, model_id: str, keep: int) -> list[str]:
        """Delete a model's ended trainings beyond the newest ``keep``; their uuids."""
        with self._transaction() as db:
            uuids = [
                row[0]
                for row in db.execute(
                    f"SELECT uuid FROM {self._table} WHERE model_id = ? "
                    "AND status NOT IN (?, ?) ORDER BY seq DESC LIMIT -1 OFFSET ?",
                    (model_id, *ACTIVE, keep),
                )
            ]
            db.executemany(f"DELETE FROM {self._table} WHERE uuid = ?", [(u,) for u in uuids])
        return uuids

    def remove(self, uuid: str) -> bool:
        """Delete an ended training's record; False when there is none that has ended."""
        with self._transaction() as db:
            cursor = db.execute(
                f"DELETE FROM {self._table} WHERE uuid = ? AND status NOT IN (?, ?)",
                (uuid, *ACTIVE),
            )
        return cursor.rowcount == 1

    # Reported by the training (through its sink).

    def save_outcome(
        self, uuid: str, output: str | None = None, message: str | None = None
    ) -> None:
        """What ``train`` returned (JSON text; outcome ``done``) or the message of what
        it raised (outcome ``error``). Not the status: the server turns the outcome into
        it once the process has exited (``finish_from_outcome``).
        """
        outcome = Status.DONE if message is None else Status.ERROR
        with self._transaction() as db:
            db.execute(
                f"UPDATE {self._table} SET outcome = ?, output = ?, message = ? "
                "WHERE uuid = ? AND status = ?",
                (outcome, output, message, uuid, Status.RUNNING),
            )

    def set_progress(self, uuid: str, fraction: float, message: str) -> None:
        with self._transaction() as db:
            db.execute(
                f"UPDATE {self._table} SET progress = ? WHERE uuid = ? AND status = ?",
                (to_json({"fraction": fraction, "message": message}), uuid, Status.RUNNING),
            )

    def _check_queue(self, db: sqlite3.Connection, max_pending: int) -> None:
        (count,) = db.execute(
            f"SELECT COUNT(*) FROM {self._table} WHERE status = ?", (Status.PENDING,)
        ).fetchone()
        if count >= max_pending:
            raise self.kind.queue_full(
                f"The {self.kind.noun} queue is full ({count} {self._table} waiting); "
                "try again later",
                QUEUE_RETRY_AFTER,
            )
