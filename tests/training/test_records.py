"""The record store: SQLite in WAL mode, records in the DEEPaaS shape."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepaas_lite import exceptions
from deepaas_lite.training import records
from deepaas_lite.training.records import Status, Store


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
    assert store.finish("u1", Status.DONE)

    record = store.get("u1")
    assert record is not None
    result = record.as_dict()["result"]
    assert set(result) == {"output", "finish_date", "duration"}
    assert result["output"] == {"accuracy": 0.97}
    assert result["duration"].startswith("0:00:00")


def test_an_error_record_has_a_message_and_no_output(store: Store) -> None:
    add(store, "u1")
    store.start("u1")
    store.finish("u1", Status.ERROR, "it broke")

    record = store.get("u1")
    assert record is not None
    shown = record.as_dict()
    assert shown["status"] == "error"
    assert shown["message"] == "it broke"
    assert "output" not in shown["result"]


def test_a_record_ends_once(store: Store) -> None:
    add(store, "u1")
    store.start("u1")
    assert store.finish("u1", Status.CANCELLED)
    assert not store.finish("u1", Status.DONE)
    assert not store.start("u1")
    store.save_outcome("u1", output='"late"')
    store.set_progress("u1", 0.9, "late")

    record = store.get("u1")
    assert record is not None
    assert record.status == "cancelled"
    assert record.outcome is None
    assert "progress" not in record.as_dict()


def test_an_outcome_is_not_a_status_until_the_server_finishes_from_it(store: Store) -> None:
    add(store, "u1")
    store.start("u1")
    store.save_outcome("u1", output='{"accuracy": 0.97}')

    running = store.get("u1")
    assert running is not None
    assert (running.status, running.outcome) == (Status.RUNNING, Status.DONE)
    assert "output" not in running.as_dict()["result"]

    ended = store.finish_from_outcome("u1", "Training process exited with code 0")
    assert ended is not None
    assert ended.status is Status.DONE
    assert ended.as_dict()["result"]["output"] == {"accuracy": 0.97}
    assert "message" not in ended.as_dict()
    assert ended == store.get("u1")


def test_an_error_outcome_ends_in_error_with_what_train_raised(store: Store) -> None:
    add(store, "u1")
    store.start("u1")
    store.save_outcome("u1", message="it broke")

    ended = store.finish_from_outcome("u1", "Training process exited with code 0")
    assert ended is not None
    assert ended.as_dict()["status"] == "error"
    assert ended.as_dict()["message"] == "it broke"


def test_no_outcome_ends_in_error_with_how_the_process_exited(store: Store) -> None:
    add(store, "u1")
    store.start("u1")

    ended = store.finish_from_outcome("u1", "Training process was killed by signal SIGKILL")
    assert ended is not None
    assert ended.status is Status.ERROR
    assert ended.message == "Training process was killed by signal SIGKILL"
    assert ended.outcome is None


def test_an_outcome_after_a_cancel_changes_nothing(store: Store) -> None:
    add(store, "u1")
    store.start("u1")
    assert store.finish("u1", Status.CANCELLED)
    store.save_outcome("u1", output='"late"')

    assert store.finish_from_outcome("u1", "Training process exited with code 0") is None
    record = store.get("u1")
    assert record is not None
    assert (record.status, record.outcome, record.message) == (Status.CANCELLED, None, None)


def test_only_a_running_training_finishes_from_an_outcome(store: Store) -> None:
    add(store, "u1")

    assert store.finish_from_outcome("u1", "Training process exited with code 0") is None
    record = store.get("u1")
    assert record is not None
    assert record.status is Status.PENDING


def test_finish_needs_an_end(store: Store) -> None:
    add(store, "u1")

    with pytest.raises(ValueError, match="running is not an end"):
        store.finish("u1", Status.RUNNING)


def test_statuses_are_their_deepaas_strings() -> None:
    assert [status.value for status in Status] == [
        "pending",
        "running",
        "done",
        "error",
        "cancelled",
        "interrupted",
    ]
    assert [status for status in Status if not status.ended] == [Status.PENDING, Status.RUNNING]


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
        store.finish(uuid, Status.DONE)
    store.start("u5")
    store.finish("other", Status.DONE)

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


def test_each_kind_of_job_has_its_own_records_and_queue(store: Store) -> None:
    jobs = records.Kind("jobs", "job", files="jobs", queue_full=exceptions.ModelBusy)
    others = Store(store.path, jobs)
    try:
        add(store, "t1")
        add(others, "j1")

        assert [r.uuid for r in store.of_model("m")] == ["t1"]
        assert [r.uuid for r in others.of_model("m")] == ["j1"]
        assert others.get("t1") is None and store.get("j1") is None
        assert others.start("j1") and not store.start("j1")
        assert store.status_counts() == {"m": {Status.PENDING: 1}}
        assert others.status_counts() == {"m": {Status.RUNNING: 1}}
        add(others, "j2")
        with pytest.raises(exceptions.ModelBusy, match=r"job queue is full \(1 jobs waiting\)"):
            others.add("j3", "m", "{}", b"", max_pending=1)
        store.add("t2", "m", "{}", b"", max_pending=2)  # its own queue: one pending
        with pytest.raises(exceptions.TrainingQueueFull, match=r"\(2 trainings waiting\)"):
            store.check_queue(2)
    finally:
        others.close()


def test_a_done_training_shows_its_progress_complete(store: Store) -> None:
    """A training that reported 0.8 "saving" last and then returned is done: its
    progress reads 1.0, not the last value it reported. An error keeps the last value."""
    for uuid, raised in (("ok", None), ("failed", "disk full")):
        add(store, uuid)
        assert store.start(uuid)
        store.set_progress(uuid, 0.8, "saving")
        store.save_outcome(uuid, output="{}" if raised is None else None, message=raised)
        store.finish_from_outcome(uuid, "exited")
    done = store.get("ok")
    failed = store.get("failed")
    assert done is not None and failed is not None
    assert done.as_dict()["status"] == "done"
    assert done.as_dict()["progress"] == {"fraction": 1.0, "message": ""}
    assert failed.as_dict()["status"] == "error"
    assert failed.as_dict()["progress"] == {"fraction": 0.8, "message": "saving"}
