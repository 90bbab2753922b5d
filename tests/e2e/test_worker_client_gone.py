"""A real deepaas-run with a predict worker process: a call whose client has gone runs
on in its worker (no new worker to start and warm), unless it is still running a few
seconds later; then its worker is replaced."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import Server, running

PREDICT = "/v2/models/worker-fragile/predict/"


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    path = tmp_path / "marks"
    path.mkdir()
    return path


@pytest.fixture
def server(tmp_path: Path, marks: Path) -> Iterator[Server]:
    args = ["--model-name", "worker-fragile", "--predict-workers", "1"]
    args += ["--state-dir", str(tmp_path / "state")]
    env = {"DEEPAAS_LITE_TEST_MARK_DIR": str(marks)}
    with running(args, tmp_path / "server.log", env=env) as started:
        deadline = time.monotonic() + 60
        while started.request("GET", "/v2/health/ready")[0] != 200:
            assert time.monotonic() < deadline, started.output()[-3000:]
            time.sleep(0.1)
        yield started


def _pid(server: Server) -> int:
    status, answer = server.json("POST", PREDICT)
    assert status == 200, answer
    return int(answer["predictions"]["pid"])


def _leave(server: Server, marks: Path, seconds: float) -> None:
    """A call that sleeps ``seconds``; its client goes away once it has started."""
    for mark in marks.iterdir():  # each call leaves one as it starts
        mark.unlink()
    where = urlsplit(server.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(
            f"POST {PREDICT}?action=sleep&seconds={seconds} HTTP/1.1\r\n"
            "Host: localhost\r\nContent-Length: 0\r\n\r\n".encode()
        )
        deadline = time.monotonic() + 30
        while not any(marks.iterdir()):
            assert time.monotonic() < deadline, "the call never started"
            time.sleep(0.02)


def test_a_call_whose_client_has_gone_runs_on_in_its_worker(server: Server, marks: Path) -> None:
    before = _pid(server)
    _leave(server, marks, 1.0)
    assert _pid(server) == before  # answered after the call ended, by the same worker
    server.wait_for_log(r"POST /v2/models/worker-fragile/predict/\S* 499")
    assert "starting another" not in server.output()


def test_a_worker_still_running_a_call_whose_client_has_gone_is_replaced(
    server: Server, marks: Path
) -> None:
    before = _pid(server)
    _leave(server, marks, 600.0)
    assert _pid(server) != before  # waited for the grace, then a new worker answered
    server.wait_for_log(
        rf"predict worker {before} ran on for 5 s a call whose client had gone; "
        "starting another"
    )
