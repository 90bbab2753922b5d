#!/usr/bin/env python3
"""The Open Inference Protocol's /infer against /predict, on one deepaas-run serving iris.

Usage: ``python3 benchmarks/bench_infer.py [--rounds 6] [--duration 5] [--connections 16,64]``.

One server (the iris example, trained first into a temporary directory), the same
flower as a JSON body to each endpoint. At each number of connections, wrk's load
alternates between the two endpoints round by round (predict first in one round, infer
first in the next), after a warm-up of both. Each round gives two ratios infer/predict:
requests a second, and the server's CPU time a request (user and system, the server's
process and its children: it moves less with other load on the machine). The verdict
takes the median of the rounds' ratios: issue 19's target is /infer within 10% of
/predict, so a PASS needs at least 0.90x the requests a second and at most 1.10x the
CPU a request, at every number of connections. ``--control`` loads /predict in both
slots instead: the ratios the method gives for two identical loads (its noise).

The server runs on 127.0.0.1 in its own process group and is stopped before the script
ends, whatever happens. Exit status: 0 when every target passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from bench_load import LoadResult, run_wrk  # noqa: E402

from tests.e2e.server import Server, running  # noqa: E402
from tests.e2e.test_schemathesis import train_iris  # noqa: E402

MODEL = "iris-deepaas"
FLOWER = [5.1, 3.5, 1.4, 0.2]
PREDICT = (f"/v2/models/{MODEL}/predict/", json.dumps({"data": FLOWER}))
INFER = (
    f"/v2/models/{MODEL}/infer",
    json.dumps({"inputs": [{"name": "data", "datatype": "FP64", "shape": [4], "data": FLOWER}]}),
)
SECOND = {False: "infer", True: "predict again"}  # the second slot's name, by --control
MIN_REQUESTS = 0.90  # infer/predict, requests a second
MAX_CPU = 1.10  # infer/predict, server CPU a request


@dataclass
class Runs:
    """One endpoint's runs at one number of connections."""

    results: list[LoadResult] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # server CPU a request


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--duration", type=float, default=5.0, help="seconds of load per run")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", default="16,64", help="numbers of connections, comma-separated")
    p.add_argument("--control", action="store_true", help="/predict in both slots")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed", file=sys.stderr)
        return 2
    bodies = {"predict": PREDICT, "infer": PREDICT if args.control else INFER}
    levels = [int(c) for c in args.connections.split(",")]
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, deepaas-lite "
        f"{_commit()}, {args.rounds} rounds of {args.duration:g} s a run, load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + (" (control: /predict in both slots)" if args.control else "")
    )
    verdicts: list[tuple[bool, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        env = {"DEEPAAS_IRIS_MODEL_DIR": f"{tmp}/iris"}
        serve = [f"--model-name={MODEL}", f"--state-dir={tmp}/state"]
        with running(serve, Path(tmp) / "server.log", env) as server:
            train_iris(server)
            for name, (path, body) in bodies.items():  # both answer
                status, _, answer = server.request(
                    "POST", path, body.encode(), {"Content-Type": "application/json"}
                )
                assert status == 200, (name, answer)
            for connections in levels:
                runs = _measure(server, wrk, bodies, connections, args)
                verdicts += _report(runs, connections, SECOND[args.control])
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for ok, line in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {line}")
    passed = all(ok for ok, _ in verdicts)
    what = "/predict within 10% of itself" if args.control else "/infer within 10% of /predict"
    print(f"{'PASS' if passed else 'FAIL'}: {what} at {args.connections} connections")
    return 0 if passed else 1


def _measure(
    server: Server,
    wrk: str,
    bodies: dict[str, tuple[str, str]],
    connections: int,
    args: argparse.Namespace,
) -> dict[str, Runs]:
    """Rounds of alternated loads at ``connections``, after a warm-up of each."""
    process = psutil.Process(server.process.pid)

    def load(path: str, body: str, seconds: float) -> LoadResult:
        url = server.url + path
        return run_wrk(wrk, url, connections=connections, duration_s=seconds, threads=1, body=body)

    for path, body in bodies.values():
        load(path, body, args.warmup)
    runs = {name: Runs() for name in bodies}
    for round_no in range(args.rounds):
        order = list(bodies) if round_no % 2 == 0 else list(reversed(bodies))
        for name in order:
            path, body = bodies[name]
            before = _cpu_s(process)
            result = load(path, body, args.duration)
            used = _cpu_s(process) - before
            assert result.errors == 0, (name, result)
            runs[name].results.append(result)
            runs[name].cpu_us.append(used / result.requests * 1e6)
            time.sleep(0.5)
        infer, predict = runs["infer"], runs["predict"]
        print(
            f"{connections} connections, round {round_no + 1}: "
            f"predict {predict.results[-1].rps:6.0f} req/s {predict.cpu_us[-1]:4.0f} us CPU, "
            f"{SECOND[args.control]} {infer.results[-1].rps:6.0f} req/s "
            f"{infer.cpu_us[-1]:4.0f} us CPU; "
            f"ratio {infer.results[-1].rps / predict.results[-1].rps:.3f} req/s, "
            f"{infer.cpu_us[-1] / predict.cpu_us[-1]:.3f} CPU",
            flush=True,
        )
    return runs


def _report(runs: dict[str, Runs], connections: int, second: str) -> list[tuple[bool, str]]:
    """The medians at ``connections``, and the two verdicts."""
    infer, predict = runs["infer"], runs["predict"]
    rps = [i.rps / p.rps for i, p in zip(infer.results, predict.results, strict=True)]
    cpu = [i / p for i, p in zip(infer.cpu_us, predict.cpu_us, strict=True)]
    for what, ratios, figures in (
        ("req/s", rps, [[r.rps for r in x.results] for x in (predict, infer)]),
        ("CPU us a request", cpu, [x.cpu_us for x in (predict, infer)]),
    ):
        print(
            f"{connections} connections, median {what}: predict "
            f"{statistics.median(figures[0]):.0f}, {second} {statistics.median(figures[1]):.0f}; "
            f"ratio {statistics.median(ratios):.3f} (rounds "
            + ", ".join(f"{r:.3f}" for r in ratios)
            + ")"
        )
    p50 = [statistics.median(r.p50_ms for r in x.results) for x in (predict, infer)]
    print(
        f"{connections} connections, median p50: predict {p50[0]:.2f} ms, {second} {p50[1]:.2f} ms"
    )
    rps_median, cpu_median = statistics.median(rps), statistics.median(cpu)
    return [
        (
            rps_median >= MIN_REQUESTS,
            f"{second}/predict req/s at {connections} connections: {rps_median:.3f}x, "
            f"need >= {MIN_REQUESTS:.2f}x",
        ),
        (
            cpu_median <= MAX_CPU,
            f"{second}/predict CPU a request at {connections} connections: {cpu_median:.3f}x, "
            f"need <= {MAX_CPU:.2f}x",
        ),
    ]


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "(commit unknown)"
    return done.stdout.strip()


def _cpu_s(process: psutil.Process) -> float:
    """User and system CPU seconds of the server and its children so far."""
    total = 0.0
    for proc in [process, *process.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


if __name__ == "__main__":
    sys.exit(main())
