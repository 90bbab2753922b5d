"""A real deepaas-run whose training logs are on a disk that is full (a small tmpfs
mounted on the state directory's logs/ for the test; it needs root, as CI has): the
training that succeeds keeps its result, and its log says what was lost and why."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import running


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    """A state directory whose logs/ is a 1 MiB tmpfs."""
    logs = tmp_path / "state" / "logs"
    logs.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(logs)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {done.stderr.decode().strip()}")
    try:
        yield tmp_path / "state"
    finally:
        subprocess.run(["umount", "-l", str(logs)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with contextlib.suppress(OSError), open(filler, "wb") as out:
        while True:
            out.write(b"x" * 65536)
    return filler


def test_a_training_on_a_full_disk_keeps_its_result_and_says_what_was_lost(
    state: Path,
) -> None:
    filler = _fill(state / "logs")
    args = ["--model-name", "train-sleeper", "--state-dir", str(state)]
    with running(args, state.parent / "server.log") as server:
        status, record = server.json(
            "POST",
            "/v2/models/train-sleeper/train/",
            body=b'{"sleep": 3, "tag": "full"}',
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, record
        server.wait_for_log("No space left on device")  # its first lines could not be written
        filler.unlink()
        path = f"/v2/models/train-sleeper/train/{record['uuid']}"
        deadline = time.monotonic() + 60
        while (answer := server.json("GET", path)[1])["status"] in ("pending", "running"):
            assert time.monotonic() < deadline, answer
            time.sleep(0.2)
        assert answer["status"] == "done", answer
        assert answer["result"]["output"]["tag"] == "full"
        _, _, log = server.request("GET", path + "/log")
        assert b"bytes of output lost: No space left on device" in log, log
        assert server.request("GET", "/v2/health/live")[0] == 200
