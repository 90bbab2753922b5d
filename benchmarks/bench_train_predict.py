"""Prediction latency while a training burns a CPU, next to the same server idle.

    python3 benchmarks/bench_train_predict.py                 # 200 predictions each
    python3 benchmarks/bench_train_predict.py --count 1000 --python /work/venv/bin/python

Needs the test plugins (``pip install -e tests/plugins``): ``echo`` answers the
predictions, ``train-busy`` spins a core until it is cancelled. The server runs with
one training worker on a loopback port; the predictions are sequential, so each
latency is one request's round trip. The report gives the median, p99 and the
maximum of each phase. (The tests only check that the predictions are answered
while the training runs; how fast is measured here.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

MODELS = ["--model-name", "echo", "--model-name", "train-busy", "--train-workers", "1"]
BODY = json.dumps({"data": [1.0, 2.0]}).encode()
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method=method, headers=HEADERS)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("deepaas-run exited early")
        try:
            if _request(url + "/v2/health/ready")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("deepaas-run did not get ready")


def _latencies(url: str, count: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        status, answer = _request(url + "/v2/models/echo/predict/", "POST", BODY)
        out.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"prediction failed: {status} {answer}")
    return out


def _report(name: str, values: list[float]) -> None:
    ms = sorted(value * 1000 for value in values)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(
        f"  {name:<22} median {statistics.median(ms):7.2f} ms   "
        f"p99 {p99:7.2f} ms   max {ms[-1]:7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    options = parser.parse_args()
    run = options.python.parent / "deepaas-run"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as state:
        process = subprocess.Popen(
            [str(run), "--listen-port", str(port), "--state-dir", state, *MODELS],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_ready(url, process)
            _latencies(url, 20)  # warm up
            idle = _latencies(url, options.count)
            pidfile = Path(state) / "busy.pid"
            body = json.dumps({"pidfile": str(pidfile)}).encode()
            status, record = _request(url + "/v2/models/train-busy/train/", "POST", body)
            assert status == 200, record
            while not pidfile.exists():
                time.sleep(0.02)
            busy = _latencies(url, options.count)
            _request(url + f"/v2/models/train-busy/train/{record['uuid']}", "DELETE")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
    print(f"{options.count} sequential predictions of echo (cores: {os.cpu_count()})")
    _report("idle", idle)
    _report("during a busy training", busy)


if __name__ == "__main__":
    main()
