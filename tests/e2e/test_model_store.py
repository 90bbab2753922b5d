"""The model store against a real ``deepaas-run``: a training's version is served by
every copy of the model that predicts (threads, two worker processes) without a
restart and with no failed request while clients keep asking; rollback; the 409.

The Ray predictor's switch is tested on a real cluster in ``tests/ray``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server, running
from tests.e2e.test_training_server import submit, wait_status

PLUGIN = Path(__file__).with_name("versioned_plugin.py")
MODEL = "versioned"
PREDICT = f"/v2/models/{MODEL}/predict/"
WAIT = 120.0


def until(what: str, probe: Callable[[], Any]) -> Any:
    """``probe()`` again until it answers something true; fails after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not (answer := probe()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)
    return answer


def served(server: Server) -> str | None:
    status, body = server.json("GET", "/v2/health/ready")
    return body.get("versions", {}).get(MODEL) if status == 200 else None


def train(server: Server, **args: Any) -> dict[str, Any]:
    record = submit(server, MODEL, args)
    return wait_status(server, MODEL, record["uuid"], {"done", "error", "cancelled"}, WAIT)


@dataclass
class Load:
    """Clients asking for predictions in a loop until stopped; every answer counted."""

    server: Server
    clients: int = 4
    answers: Counter[tuple[int, str]] = field(default_factory=Counter)
    failures: list[Any] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _client(self) -> None:
        while not self._stop.is_set():
            try:
                status, body = self.server.json("POST", PREDICT)
            except Exception as exc:
                with self._lock:
                    self.failures.append(repr(exc))
                continue
            with self._lock:
                if status != 200:
                    self.failures.append((status, body))
                else:
                    self.answers[(status, body["predictions"]["tag"])] += 1

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def load_on() -> Iterator[Callable[[Server], Load]]:
    """Start clients on a server; they stop at the end of the test."""
    threads: list[threading.Thread] = []
    loads: list[Load] = []

    def start(server: Server) -> Load:
        load = Load(server)
        loads.append(load)
        for _ in range(load.clients):
            thread = threading.Thread(target=load._client, daemon=True)
            thread.start()
            threads.append(thread)
        return load

    yield start
    for load in loads:
        load.stop()
    for thread in threads:
        thread.join(60)


@pytest.mark.parametrize("workers", [0, 2], ids=["threads", "two-worker-processes"])
def test_a_new_version_is_served_without_a_restart_or_a_failed_request(
    tmp_path: Path, workers: int, load_on: Callable[[Server], Load]
) -> None:
    state = tmp_path / "state"
    args = ["--state-dir", str(state), "--plugin", f"{MODEL}={PLUGIN}"]
    args += ["--predict-workers", str(workers)]
    with running(args, tmp_path / "server.log") as server:
        switch_under_load(server, state, max(1, workers), load_on)


def switch_under_load(
    server: Server, state: Path, copies: int, load_on: Callable[[Server], Load]
) -> None:
    """Train a first version, then a second one while clients ask in a loop: the second
    is served by all ``copies`` of the model, and no request failed meanwhile."""
    status, body = server.json("POST", PREDICT)
    assert status == 503, body  # not trained yet
    assert served(server) is None

    first = train(server, tag="one")
    assert first["status"] == "done", first
    assert first["version"] == first["uuid"]
    until("version one served", lambda: served(server) == first["uuid"])

    load = load_on(server)
    until("clients answered", lambda: sum(load.answers.values()) > 20)
    second = train(server, tag="two", load_delay=1.0)
    assert second["status"] == "done", second
    # While the new version loads (a second), the previous one answers.
    answered = sum(load.answers.values())
    until("version two served", lambda: served(server) == second["uuid"])
    assert load.answers[(200, "one")] > 0
    assert sum(load.answers.values()) > answered
    # Every copy serves it now (each worker process or actor, or the server's threads).
    pids = set()
    version_dir = state / "models" / MODEL / "versions" / second["uuid"]
    for _ in range(20 * copies):
        status, body = server.json("POST", PREDICT)
        assert (status, body["predictions"]["tag"]) == (200, "two"), body
        assert body["predictions"]["model_dir"] == str(version_dir)
        pids.add(body["predictions"]["pid"])
    assert len(pids) == copies
    count = sum(load.answers.values())
    until("clients answered after the switch", lambda: sum(load.answers.values()) > count + 20)
    load.stop()

    assert load.failures == [], load.failures[:5]
    assert set(load.answers) == {(200, "one"), (200, "two")}, load.answers

    _, model = server.json("GET", f"/v2/models/{MODEL}/")
    assert model["store"]["current"] == second["uuid"]
    assert model["store"]["served"] == second["uuid"]
    assert [v["version"] for v in model["store"]["versions"]] == [first["uuid"], second["uuid"]]


def test_rollback_failures_and_deleting_versions(tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = ["--state-dir", str(state), "--plugin", f"{MODEL}={PLUGIN}"]
    versions = state / "models" / MODEL / "versions"
    with running(args, tmp_path / "server.log") as server:
        first = train(server, tag="one")
        second = train(server, tag="two")
        until("version two served", lambda: served(server) == second["uuid"])

        # A failed training, and a cancelled one, never replace the current version.
        failed = train(server, tag="three", fail=True)
        assert failed["status"] == "error"
        assert "version" not in failed
        record = submit(server, MODEL, {"tag": "four", "sleep": 60})
        wait_status(server, MODEL, record["uuid"], {"running"})
        until("version written", lambda: (versions / record["uuid"]).exists())
        status, cancelled = server.json("DELETE", record_path(record))
        assert (status, cancelled["status"]) == (200, "cancelled")
        assert sorted(p.name for p in versions.iterdir()) == sorted([first["uuid"], second["uuid"]])
        _, store = server.json("GET", f"/v2/models/{MODEL}/store/")
        assert store["current"] == second["uuid"]

        # A version that cannot be loaded is current, but the previous one serves on.
        broken = train(server, tag="broken", load_fails=True)
        assert broken["status"] == "done", broken
        failed = until("load failed", lambda: store_of(server).get("failed"))
        assert failed["version"] == broken["uuid"]
        assert "version broken cannot be loaded" in failed["message"]
        status, body = server.json("POST", PREDICT)
        assert (status, body["predictions"]["tag"]) == (200, "two")
        assert served(server) == second["uuid"]
        assert store_of(server)["current"] == broken["uuid"]

        # Rollback.
        status, store = server.json(
            "PUT", f"/v2/models/{MODEL}/store/current?version={first['uuid']}"
        )
        assert status == 200, store
        assert store["current"] == first["uuid"]
        until("version one served again", lambda: served(server) == first["uuid"])
        assert "failed" not in store_of(server)
        status, body = server.json("POST", PREDICT)
        assert (status, body["predictions"]["tag"]) == (200, "one")

        # The current version's training cannot be removed; another one can.
        status, body = server.json("DELETE", record_path(first))
        assert status == 409, body
        assert "current" in body["message"]
        status, body = server.json("DELETE", record_path(second))
        assert status == 200, body
        assert not (versions / second["uuid"]).exists()
        _, store = server.json("GET", f"/v2/models/{MODEL}/store/")
        assert [v["version"] for v in store["versions"]] == [first["uuid"], broken["uuid"]]

        # Unknown versions, and no version at all.
        status, body = server.json("PUT", f"/v2/models/{MODEL}/store/current?version=nope")
        assert status == 404, body
        status, body = server.json("PUT", f"/v2/models/{MODEL}/store/current")
        assert status == 422 and "version" in body["errors"], body


def store_of(server: Server) -> dict[str, Any]:
    status, store = server.json("GET", f"/v2/models/{MODEL}/store/")
    assert status == 200, store
    return dict(store)


def record_path(record: dict[str, Any]) -> str:
    return f"/v2/models/{MODEL}/train/{record['uuid']}"


def test_the_store_may_live_outside_the_state_directory(tmp_path: Path) -> None:
    store = tmp_path / "shared" / "store"
    args = ["--state-dir", str(tmp_path / "state"), "--model-store-dir", str(store)]
    with running([*args, "--plugin", f"{MODEL}={PLUGIN}"], tmp_path / "server.log") as server:
        record = train(server, tag="elsewhere")
        until("served", lambda: served(server) == record["uuid"])
        status, body = server.json("POST", PREDICT)
        assert status == 200, body
        assert body["predictions"]["model_dir"] == str(store / MODEL / "versions" / record["uuid"])
    assert not (tmp_path / "state" / "models").exists()


def test_a_version_one_worker_cannot_load_is_served_by_none(tmp_path: Path) -> None:
    """Two worker processes; the new version's load fails in one of them: the other goes
    back to the previous version, so that every answer comes from one version."""
    args = ["--state-dir", str(tmp_path / "state"), "--plugin", f"{MODEL}={PLUGIN}"]
    with running([*args, "--predict-workers", "2"], tmp_path / "server.log") as server:
        first = train(server, tag="one")
        until("version one served", lambda: served(server) == first["uuid"])
        second = train(server, tag="two", load_fails_once=True)
        failed = until("load failed", lambda: store_of(server).get("failed"))
        assert failed["version"] == second["uuid"]
        # The worker that loaded it is brought back: keep asking until both answer "one".
        until("both workers back", lambda: _every_answer(server, "one", copies=2))
        assert served(server) == first["uuid"]


def _every_answer(server: Server, tag: str, copies: int) -> bool:
    pids = set()
    for _ in range(10 * copies):
        status, body = server.json("POST", PREDICT)
        if (status, body["predictions"]["tag"]) != (200, tag):
            return False
        pids.add(body["predictions"]["pid"])
    return len(pids) == copies
