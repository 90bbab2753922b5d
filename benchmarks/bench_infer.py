#!/usr/bin/env python3
"""The Open Inference Protocol's /infer against /predict, on one deepaas-run serving iris.

Usage: ``python3 benchmarks/bench_infer.py [--rounds 3] [--duration 8] [--connections 16]``.
One server (the iris example, trained first into a temporary directory), the same
flower as a JSON body to each endpoint, wrk's load alternated between them round by
round; the ratio infer/predict of requests a second, and of the server's CPU time a
request (less sensitive to other load on the machine), is printed for each round and
overall (medians). The server runs on 127.0.0.1 in its own process group and is
stopped before the script ends, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from bench_load import LoadResult, run_wrk  # noqa: E402

from tests.e2e.server import running  # noqa: E402
from tests.e2e.test_schemathesis import train_iris  # noqa: E402

MODEL = "iris-deepaas"
FLOWER = [5.1, 3.5, 1.4, 0.2]
BODIES = {
    "predict": (f"/v2/models/{MODEL}/predict/", json.dumps({"data": FLOWER})),
    "infer": (
        f"/v2/models/{MODEL}/infer",
        json.dumps(
            {"inputs": [{"name": "data", "datatype": "FP64", "shape": [4], "data": FLOWER}]}
        ),
    ),
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=8.0, help="seconds of load per run")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=16)
    return p.parse_args()


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-infer-") as tmp:
        env = {"DEEPAAS_IRIS_MODEL_DIR": f"{tmp}/iris"}
        serve = [f"--model-name={MODEL}", f"--state-dir={tmp}/state"]
        with running(serve, Path(tmp) / "server.log", env) as server:
            train_iris(server)
            for name, (path, body) in BODIES.items():  # both answer the same
                status, _, answer = server.request(
                    "POST", path, body.encode(), {"Content-Type": "application/json"}
                )
                assert status == 200, (name, answer)
                run_wrk(
                    wrk,
                    server.url + path,
                    connections=args.connections,
                    duration_s=args.warmup,
                    threads=1,
                    body=body,
                )
            results: dict[str, list[LoadResult]] = {name: [] for name in BODIES}
            cpu: dict[str, list[float]] = {name: [] for name in BODIES}  # us a request
            process = psutil.Process(server.process.pid)
            for round_no in range(args.rounds):
                order = list(BODIES) if round_no % 2 == 0 else list(reversed(BODIES))
                for name in order:
                    path, body = BODIES[name]
                    before = _cpu_s(process)
                    result = run_wrk(
                        wrk,
                        server.url + path,
                        connections=args.connections,
                        duration_s=args.duration,
                        threads=1,
                        body=body,
                    )
                    used = _cpu_s(process) - before
                    assert result.errors == 0, (name, result)
                    results[name].append(result)
                    cpu[name].append(used / result.requests * 1e6)
                    time.sleep(0.5)
                infer, predict = results["infer"][-1], results["predict"][-1]
                print(
                    f"round {round_no + 1}: predict {predict.rps:8.0f} req/s "
                    f"(p50 {predict.p50_ms:.2f} ms), infer {infer.rps:8.0f} req/s "
                    f"(p50 {infer.p50_ms:.2f} ms), infer/predict {infer.rps / predict.rps:.3f}; "
                    f"CPU a request: predict {cpu['predict'][-1]:.0f} us, "
                    f"infer {cpu['infer'][-1]:.0f} us, infer/predict "
                    f"{cpu['infer'][-1] / cpu['predict'][-1]:.3f}"
                )
    ratios = [i.rps / p.rps for i, p in zip(results["infer"], results["predict"], strict=True)]
    print(
        f"median: predict {statistics.median(r.rps for r in results['predict']):.0f} req/s, "
        f"infer {statistics.median(r.rps for r in results['infer']):.0f} req/s, "
        f"infer/predict {statistics.median(ratios):.3f} (rounds: "
        + ", ".join(f"{r:.3f}" for r in ratios)
        + ")"
    )
    cpu_ratios = [i / p for i, p in zip(cpu["infer"], cpu["predict"], strict=True)]
    print(
        f"median CPU a request: predict {statistics.median(cpu['predict']):.0f} us, "
        f"infer {statistics.median(cpu['infer']):.0f} us, infer/predict "
        f"{statistics.median(cpu_ratios):.3f} (rounds: "
        + ", ".join(f"{r:.3f}" for r in cpu_ratios)
        + ")"
    )
    return 0


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
