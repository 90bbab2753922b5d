"""Trainings against a real ``deepaas-run``: crashes, stops, predictions meanwhile."""

from __future__ import annotations

import json
import signal
import statistics
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.server import Server, running, start, stop, wait_ready

MODELS = ["--model-name", "train-busy", "--model-name", "train-sleeper"]


def submit(server: Server, model_id: str, args: dict[str, Any]) -> dict[str, Any]:
    status, record = server.json(
        "POST",
        f"/v2/models/{model_id}/train/",
        body=json.dumps(args).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200, record
    return dict(record)


def get(server: Server, model_id: str, uuid: str) -> dict[str, Any]:
    status, record = server.json("GET", f"/v2/models/{model_id}/train/{uuid}")
    assert status == 200, record
    return dict(record)


def wait_status(
    server: Server, model_id: str, uuid: str, wanted: set[str], timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (record := get(server, model_id, uuid))["status"] not in wanted:
        assert time.monotonic() < deadline, record
        time.sleep(0.05)
    return record


def read_pid(pidfile: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while not pidfile.exists():
        assert time.monotonic() < deadline, f"{pidfile} never appeared"
        time.sleep(0.02)
    return int(pidfile.read_text().split()[0])


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still alive"
        time.sleep(0.02)


def server_args(state: Path, *extra: str) -> list[str]:
    return [*MODELS, "--state-dir", str(state), "--train-workers", "1", *extra]


def start_busy_and_pending(server: Server, tmp_path: Path) -> tuple[str, int, str]:
    pidfile = tmp_path / f"busy-{time.monotonic_ns()}.pid"
    busy = submit(server, "train-busy", {"pidfile": str(pidfile)})
    pending = submit(server, "train-sleeper", {"tag": "after restart"})
    assert pending["status"] == "pending"
    return busy["uuid"], read_pid(pidfile), pending["uuid"]


def assert_restart_recovers(tmp_path: Path, state: Path, busy: str, pending: str) -> None:
    with running(server_args(state), tmp_path / "again.log") as server:
        assert get(server, "train-busy", busy)["status"] == "interrupted"
        record = wait_status(server, "train-sleeper", pending, {"done", "error"})
        assert record["status"] == "done", record
        assert record["result"]["output"]["tag"] == "after restart"


def test_kill_9_of_the_server_mid_training(tmp_path: Path) -> None:
    state = tmp_path / "state"
    server = start(server_args(state), tmp_path / "server.log")
    try:
        wait_ready(server)
        busy, pid, pending = start_busy_and_pending(server, tmp_path)
        assert get(server, "train-busy", busy)["status"] == "running"
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        # Nobody closed the manager: the orphaned training must notice by itself.
        wait_gone(pid, timeout=3)
    finally:
        stop(server)

    assert_restart_recovers(tmp_path, state, busy, pending)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_and_its_trainings(tmp_path: Path, signum: int) -> None:
    state = tmp_path / "state"
    server = start(server_args(state), tmp_path / "server.log")
    try:
        wait_ready(server)
        busy, pid, pending = start_busy_and_pending(server, tmp_path)
        started = time.monotonic()
        server.process.send_signal(signum)
        code = server.process.wait(10)
        assert time.monotonic() - started < 5, server.output()
        assert code == 0, server.output()
        assert gone(pid)
    finally:
        stop(server)

    assert_restart_recovers(tmp_path, state, busy, pending)


def test_cancel_and_log_over_http(tmp_path: Path) -> None:
    args = [*server_args(tmp_path / "state"), "--model-name", "train-spawner"]
    with running(args, tmp_path / "server.log") as server:
        pidfile = tmp_path / "spawner.pid"
        record = submit(server, "train-spawner", {"pidfile": str(pidfile)})
        read_pid(pidfile)
        pids = [int(pid) for pid in pidfile.read_text().split()]
        url = f"/v2/models/train-spawner/train/{record['uuid']}"
        deadline = time.monotonic() + 20
        while True:
            status, headers, body = server.request("GET", url + "/log")
            assert status == 200
            if b"says hello" in body:
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        assert headers["Content-Type"].startswith("text/plain")

        started = time.monotonic()
        status, cancelled = server.json("DELETE", url)
        assert status == 200
        assert cancelled["status"] == "cancelled"
        for pid in pids:
            wait_gone(pid, timeout=2 - (time.monotonic() - started))
        # Ended now: a second DELETE removes it, as DEEPaaS does.
        status, removed = server.json("DELETE", url)
        assert (status, removed["status"]) == (200, "cancelled")
        assert server.json("GET", url)[0] == 404


def test_predictions_stay_fast_while_a_training_saturates_a_core(
    tmp_path: Path,
) -> None:
    args = [*server_args(tmp_path / "state"), "--model-name", "echo"]
    body = json.dumps({"data": [1.0, 2.0]}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def latencies(server: Server, count: int) -> list[float]:
        out = []
        for _ in range(count):
            started = time.monotonic()
            status, _, answer = server.request(
                "POST", "/v2/models/echo/predict/", body=body, headers=headers
            )
            out.append(time.monotonic() - started)
            assert status == 200, answer
        return out

    with running(args, tmp_path / "server.log") as server:
        latencies(server, 5)
        pidfile = tmp_path / "busy.pid"
        submit(server, "train-busy", {"pidfile": str(pidfile)})
        pid = read_pid(pidfile)
        busy = psutil.Process(pid)
        before = sum(busy.cpu_times()[:2])
        time.sleep(1.0)
        # The training is burning CPU (a share of a core even on a loaded machine).
        assert sum(busy.cpu_times()[:2]) - before > 0.25

        during = latencies(server, 40)

    assert statistics.median(during) < 0.05, during
    assert max(during) < 0.5, during
