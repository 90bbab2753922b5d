"""A real deepaas-run: a prediction whose client has gone is not run if it has not
started yet, and one that was running is logged and counted as 499, not 200."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import Server, running

PREDICT = "/v2/models/predict-marker/predict/"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    args = [
        "--model-name",
        "predict-marker",
        "--state-dir",
        str(tmp_path / "state"),
        "--predict-concurrency",
        "1",
    ]
    with running(args, tmp_path / "server.log") as started:
        yield started


def _abandon(server: Server, mark: Path, label: str, sleep: float) -> None:
    """Send a prediction and close the connection once it has been received."""
    where = urlsplit(server.url)
    body = json.dumps({"mark": str(mark), "label": label, "sleep": sleep}).encode()
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(
            f"POST {PREDICT} HTTP/1.1\r\nHost: localhost\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Request-ID: {label}\r\n\r\n".encode()
            + body
        )
        time.sleep(0.5)  # read, parsed and queued (or running) by now


def _requests_total(server: Server, status: str) -> float:
    _, _, body = server.request("GET", "/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line.startswith("deepaas_requests_total")
        and 'model="predict-marker"' in line
        and f'status="{status}"' in line
    )


def test_abandoned_predictions_are_not_run_and_are_499(server: Server, tmp_path: Path) -> None:
    mark = tmp_path / "ran"
    # The first one takes the only slot for 5 s; the next four wait for it, and their
    # clients are gone (0.5 s each) before it is free.
    for i in range(5):
        _abandon(server, mark, f"gone-{i}", 5.0)
    # One sent now runs once the slot is free: the waiting ones were never run.
    status, answer = server.json(
        "POST",
        PREDICT,
        body=json.dumps({"mark": str(mark), "label": "kept"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200, answer
    assert mark.read_text().split() == ["gone-0", "kept"]
    deadline = time.monotonic() + 30
    while len(re.findall(r"\[gone-\d\]: POST \S+ 499", log := server.output())) < 5:
        assert time.monotonic() < deadline, log[-3000:]
        time.sleep(0.1)
    assert not re.search(r"\[gone-\d\]: POST \S+ 200", log), log[-3000:]
    assert _requests_total(server, "499") == 5
    assert _requests_total(server, "200") == 1
