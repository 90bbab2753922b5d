"""A store written before records had ``request_id`` (or ``callback``, ``call``) opens
with the columns added."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from deepaas_lite.training.records import Store

_OLD_SCHEMA = """
CREATE TABLE trainings (
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
    progress TEXT
);
"""


def test_an_older_store_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "trainings.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_SCHEMA)
        db.execute(
            "INSERT INTO trainings (uuid, model_id, date, status, args, kwargs) "
            "VALUES ('old', 'm', '2026-01-01 00:00:00', 'pending', '{}', x'')"
        )
    db.close()
    store = Store(path)
    try:
        old = store.get("old")
        assert old is not None and "request_id" not in old.as_dict()
        store.add("new", "m", "{}", b"", request_id="req-9", call="inference")
        new = store.get("new")
        assert new is not None and new.as_dict()["request_id"] == "req-9"
        assert new.call == "inference" and new.as_dict()["call"] == "inference"
        assert "call" not in old.as_dict()
    finally:
        store.close()
