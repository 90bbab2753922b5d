"""How long from a training's POST until the plugin's ``train`` runs.

    python3 benchmarks/bench_train_start.py                     # 10 trainings a server, 2 rounds
    python3 benchmarks/bench_train_start.py --count 20 --rounds 3 --python /work/venv/bin/python

Needs the test plugins (``pip install -e tests/plugins``): ``train-sleeper`` answers
the time its ``train`` started. Each round starts a ``deepaas-run`` on a loopback port
for each variant (``--train-standby``: a process started ahead per model, its plugin
loaded, used once; ``--notrain-standby``: a process spawned for each training), the
variants alternating, and submits ``--count`` trainings one after the other, each
``--pause`` seconds after the previous one has ended (trainings are seldom back to
back; a process started ahead needs that long to load the plugin on a busy machine,
and a training submitted before waits for the rest of it). The first training of a
server is reported apart (no process was started ahead yet); the others are the warm
ones. The report gives the median, the minimum and the maximum in milliseconds, and
the ratio of the warm medians. Times are the plugin's clock against this script's: same machine.
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

MODEL = "train-sleeper"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
VARIANTS = {"standby": ["--train-standby"], "spawn": ["--notrain-standby"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method=method, headers=HEADERS)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("deepaas-run exited early")
        with contextlib.suppress(OSError):
            if _request(url + "/v2/health/ready")[0] == 200:
                return
        time.sleep(0.1)
    raise SystemExit("deepaas-run did not get ready")


def _one_training(url: str) -> float:
    """Seconds from the POST until ``train`` started."""
    posted = time.time()
    status, record = _request(
        f"{url}/v2/models/{MODEL}/train/", "POST", json.dumps({"tag": "bench"}).encode()
    )
    if status != 200:
        raise SystemExit(f"POST answered {status}: {record}")
    while record["status"] in ("pending", "running"):
        time.sleep(0.02)
        record = _request(f"{url}/v2/models/{MODEL}/train/{record['uuid']}")[1]
    if record["status"] != "done":
        raise SystemExit(f"the training ended {record['status']}: {record}")
    started: float = record["result"]["output"]["started"]
    return started - posted


def _run_server(
    python: str, flags: list[str], count: int, state: Path, pause: float
) -> list[float]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    run = Path(python).with_name("deepaas-run")
    args = [str(run), "--listen-port", str(port), "--model-name", MODEL]
    args += ["--state-dir", str(state), "--nowarm", *flags]
    with open(state.with_suffix(".log"), "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, process)
        times = []
        for _ in range(count):
            times.append(_one_training(url))
            time.sleep(pause)
        return times
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    shown = [v * 1000 for v in values]
    return (
        f"median {statistics.median(shown):7.1f} ms  min {min(shown):7.1f}  "
        f"max {max(shown):7.1f}  (n={len(shown)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10, help="trainings a server")
    parser.add_argument("--rounds", type=int, default=2, help="servers of each variant")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between trainings")
    parser.add_argument("--python", default=sys.executable, help="the Python of deepaas-lite")
    args = parser.parse_args(argv)
    first: dict[str, list[float]] = {name: [] for name in VARIANTS}
    warm: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="bench-train-start-") as tmp:
        for round_ in range(args.rounds):
            for name, flags in VARIANTS.items():
                state = Path(tmp, f"{name}-{round_}")
                times = _run_server(args.python, flags, args.count, state, args.pause)
                first[name].append(times[0])
                warm[name].extend(times[1:])
                print(f"round {round_ + 1} {name:8} {_ms(times[1:])}", flush=True)
    print(
        f"\nPOST to train() start, {MODEL}, {os.cpu_count()} CPUs, {args.pause:g} s between "
        "trainings, variants alternated"
    )
    for name in VARIANTS:
        print(f"  {name:8} first {_ms(first[name])}")
        print(f"  {name:8} next  {_ms(warm[name])}")
    if warm["standby"] and warm["spawn"]:
        ratio = statistics.median(warm["standby"]) / statistics.median(warm["spawn"])
        print(f"  standby/spawn (next, medians): {ratio:.4f} ({1 / ratio:.0f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
