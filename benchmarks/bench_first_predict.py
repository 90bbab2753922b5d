#!/usr/bin/env python3
"""The first prediction after a training, against the next ones, on a real deepaas-run.

    python3 benchmarks/bench_first_predict.py --python /work/venv/bin/python --rounds 5

One deepaas-run serves the iris example from a temporary state directory, its model
store in use (no ``DEEPAAS_IRIS_MODEL_DIR``). Each round trains it, waits for the
training's record to say ``done``, then at once times one prediction (the first after
the training) and ``--next`` more, one after the other. The report gives, per round,
the first one's time and status, the median of the next ones and how many of them
were not a 200; the server loads a new version in the background, so the first
should cost what the next do.
"""

from __future__ import annotations

import argparse
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

HOST = "127.0.0.1"
MODEL = "iris-deepaas"
FLOWER = "data=5.1&data=3.5&data=1.4&data=0.2"
TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _call(url: str, method: str = "GET") -> tuple[int, dict[str, object], float]:
    """Status, JSON body and seconds of one request."""
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    request.add_header("Accept", "application/json")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    took = time.perf_counter() - started
    return status, json.loads(raw or b"{}"), took


def _wait(url: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if _call(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"no 200 on {url} within {TIMEOUT_S:.0f} s")


def _train(base: str) -> None:
    status, record, _ = _call(f"{base}/v2/models/{MODEL}/train/", "POST")
    if status != 200:
        raise SystemExit(f"training refused: {status} {record}")
    uuid = record["uuid"]
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        record = _call(f"{base}/v2/models/{MODEL}/train/{uuid}")[1]
        if record.get("status") in ("done", "error", "cancelled"):
            break
        time.sleep(0.02)
    if record.get("status") != "done":
        raise SystemExit(f"training {uuid} did not end done: {record}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--next", type=int, default=20, help="predictions timed after the first")
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    options = parser.parse_args()
    port = _free_port()
    base = f"http://{HOST}:{port}"
    env = {k: v for k, v in os.environ.items() if k != "DEEPAAS_IRIS_MODEL_DIR"}
    with tempfile.TemporaryDirectory(prefix="bench-first-") as state:
        cmd = [str(options.python), "-m", "deepaas_lite.cmd.run", "--listen-ip", HOST]
        cmd += ["--listen-port", str(port), "--model-name", MODEL, "--state-dir", state]
        log = open(Path(state) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(cmd, env=env, cwd=state, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(f"{base}/v2/models/")
            rows = []
            for round_no in range(1, options.rounds + 1):
                _train(base)
                status, _, first = _call(f"{base}/v2/models/{MODEL}/predict/?{FLOWER}", "POST")
                after = [
                    _call(f"{base}/v2/models/{MODEL}/predict/?{FLOWER}", "POST")
                    for _ in range(options.next)
                ]
                refused = sum(1 for answer in after if answer[0] != 200)
                median = statistics.median(answer[2] for answer in after)
                rows.append((round_no, status, first, median, refused))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
    print(f"first prediction after a training vs the next {options.next} ({options.python})")
    print(
        f"  {'round':>5} {'status':>6} {'first ms':>9} {'next ms':>8} {'first/next':>10} "
        f"{'next non-200':>12}"
    )
    for round_no, status, first, median, refused in rows:
        print(
            f"  {round_no:>5} {status:>6} {first * 1e3:9.2f} {median * 1e3:8.2f} "
            f"{first / median:9.2f}x {refused:>12}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
