"""The record store: SQLite in WAL mode, records in the DEEPaaS shape."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepaas_lite.training import records
from deepaas_lite.training.records import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "trainings.sqlite3")
    yield store
    store.close()


def add(store: Store, uuid: str, model_id: str = "m") -> str:
    store.add(uuid, model_id, '{"epochs": 3}', b"")
    return uuid


def test_the_database_is_in_wal_mode(store: Store) -> None:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_pending_record(store: Store) -> None:
    training = store.add("u1", "m", '{"epochs": 3}', b"")

    assert training.as_dict() == {
        "uuid": "u1",
        "date": training.date,
        "status": "pending",
        "args": {"epochs": 3},
        "result": {},
    }


def test_a_done_record_has_output_finish_date_and_run_duration(store: Store) -> None:
    add(store, "u1")
    assert store.start("u1")
    store.save_outcome("u1", output='{"accuracy": 0.97}')
    assert store.finish("u1", records.DONE)

    record = store.get("u1")
    assert record is not None
    result = record.as_dict()["result"]
    assert set(result) == {"output", "finish_date", "duration"}
    assert result["output"] == {"accuracy": 0.97}
    assert result["duration"].startswith("0:00:00")


def test_an_error_record_has_a_message_and_no_output(store: Store) -> None:
    add(store, "u1")
    store.start("u1")
    store.finish("u1", records.ERROR, "it broke")

    record = store.get("u1")
    assert record is not None
    shown = record.as_dict()
    assert shown["status"] == "error"
    assert shown["message"] == "it broke"
    assert "output" not in shown["result"]


def test_a_record_ends_once(store: Store) -> None:
    add(store, "u1")
    store.start("u1")
    assert store.finish("u1", records.CANCELLED)
    assert not store.finish("u1", records.DONE)
    assert not store.start("u1")
    store.save_outcome("u1", output='"late"')
    store.set_progress("u1", 0.9, "late")

    record = store.get("u1")
    assert record is not None
    assert record.status == "cancelled"
    assert record.outcome is None
    assert "progress" not in record.as_dict()


def test_progress_is_kept_while_running(store: Store) -> None:
    add(store, "u1")
    store.set_progress("u1", 0.1, "not yet running")
    store.start("u1")
    store.set_progress("u1", 0.3, "epoch 1")

    record = store.get("u1")
    assert record is not None
    assert record.as_dict()["progress"] == {"fraction": 0.3, "message": "epoch 1"}


def test_interrupt_running(store: Store) -> None:
    for uuid in ("u1", "u2", "u3"):
        add(store, uuid)
    store.start("u1")

    assert store.interrupt_running() == ["u1"]

    assert [t.status for t in store.of_model("m")] == [
        "interrupted",
        "pending",
        "pending",
    ]


def test_prune_keeps_the_newest_ended_and_every_active_record(store: Store) -> None:
    for n in range(6):
        add(store, f"u{n}")
    add(store, "other", model_id="other")
    for uuid in ("u0", "u1", "u2", "u4"):
        store.start(uuid)
        store.finish(uuid, records.DONE)
    store.start("u5")
    store.finish("other", records.DONE)

    assert store.prune("m", keep=2) == ["u1", "u0"]

    assert [t.uuid for t in store.of_model("m")] == ["u2", "u3", "u4", "u5"]
    assert store.prune("other", keep=2) == []


def test_pending_in_submission_order(store: Store) -> None:
    for uuid, model_id in [("b", "m"), ("a", "n"), ("c", "m"), ("d", "x")]:
        add(store, uuid, model_id)

    assert [t.uuid for t in store.pending(["m", "n"])] == ["b", "a", "c"]
    assert [t.uuid for t in store.pending()] == ["b", "a", "c", "d"]


def test_to_json_turns_unknown_values_into_str() -> None:
    assert records.to_json({"when": Path("/x"), "n": 1}) == '{"when": "/x", "n": 1}'
