"""Trainings against a real ``deepaas-run``: crashes, stops, predictions meanwhile."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.server import Server, deepaas_run, running, start, stop, wait_ready

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


def test_predictions_are_answered_while_a_training_burns_a_cpu(tmp_path: Path) -> None:
    """Every prediction is answered between two readings of a running training.

    (How fast they are answered meanwhile is measured in benchmarks/, not here.)
    """
    args = [*server_args(tmp_path / "state"), "--model-name", "echo"]
    headers = {"Content-Type": "application/json", "Accept": "application/json"}

    with running(args, tmp_path / "server.log") as server:
        pidfile = tmp_path / "busy.pid"
        training = submit(server, "train-busy", {"pidfile": str(pidfile)})
        read_pid(pidfile)  # the plugin's train is running
        assert get(server, "train-busy", training["uuid"])["status"] == "running"

        for n in range(40):
            body = json.dumps({"data": [float(n), 2.0]}).encode()
            status, _, answer = server.request(
                "POST", "/v2/models/echo/predict/", body=body, headers=headers
            )
            assert status == 200, answer
            assert json.loads(answer)["predictions"]["data"] == [float(n), 2.0]

        assert get(server, "train-busy", training["uuid"])["status"] == "running"


def run_to_exit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [deepaas_run(), "--model-name", "train-sleeper", "--listen-port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def the_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start prints; no traceback."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.startswith("deepaas-run:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_corrupt_records_database_stops_the_start_and_is_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    database = state / "trainings.sqlite3"
    garbage = b"this is not a database\n" * 100
    database.write_bytes(garbage)

    line = the_error_line(run_to_exit("--state-dir", str(state)))

    assert str(database) in line
    assert "--reset-state" in line
    assert database.read_bytes() == garbage
    assert sorted(p.name for p in state.iterdir()) == ["trainings.sqlite3"]


def test_reset_state_moves_a_corrupt_database_aside_and_starts_anew(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    garbage = b"this is not a database\n" * 100
    (state / "trainings.sqlite3").write_bytes(garbage)
    args = ["--model-name", "train-sleeper", "--state-dir", str(state), "--reset-state"]

    with running(args, tmp_path / "server.log") as server:
        record = submit(server, "train-sleeper", {"tag": "fresh"})
        assert wait_status(server, "train-sleeper", record["uuid"], {"done"})["status"] == "done"

    (aside,) = state.glob("trainings.sqlite3.corrupt-*")
    assert aside.read_bytes() == garbage
    assert str(aside) in server.output()
    # Once the store is sound, the flag changes nothing.
    with running(args, tmp_path / "again.log") as server:
        status, listed = server.json("GET", "/v2/models/train-sleeper/train/")
        assert status == 200 and [r["uuid"] for r in listed] == [record["uuid"]]
    assert list(state.glob("trainings.sqlite3.corrupt-*")) == [aside]


def test_an_unusable_state_directory_stops_the_start(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    state = blocker / "state"

    line = the_error_line(run_to_exit("--state-dir", str(state)))

    assert str(state) in line
    assert "--state-dir" in line
