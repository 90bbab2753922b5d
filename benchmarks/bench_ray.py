"""A CPU-bound model on a two-node Ray cluster of this machine against the local executors.

Run from the repository root with a Python that has deepaas-lite[ray] installed::

    python benchmarks/bench_ray.py                 # 3 rounds of 10 s per variant
    python benchmarks/bench_ray.py --quick         # 1 round of 3 s

It installs the benchmark plugins (``benchmarks/plugins``) into ``.work/ray-plugins``
(put on ``PYTHONPATH``, for the servers and the Ray nodes alike), starts a Ray cluster
of two nodes on loopback (127.0.0.2 and 127.0.0.3, one CPU each), then serves
``bench-cpu`` (about 5 ms of pure Python per call) from ``deepaas-run`` in turn:

* ``threads``: ``--predict-workers 0``, threads of the server process (one GIL);
* ``processes``: ``--predict-workers 2``, two local worker processes;
* ``ray``: ``--predict-executor ray --predict-workers 2``, one Ray actor on each node.

Each variant gets the same closed-loop load (``--connections`` clients posting one
request after another, from this script's own event loop) after a warm-up, rounds
alternating between variants; the report gives requests per second and latency
percentiles, the best round of each. The cluster is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_procs import free_port, machine_busy_s, running  # noqa: E402

WORK = HERE / ".work"
PLUGINS = WORK / "ray-plugins"
MODEL = "bench-cpu"
HEAD_IP, NODE_IP = "127.0.0.2", "127.0.0.3"


@dataclass
class Round:
    variant: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    busy: float  # the machine's CPUs busy during the round (all processes), 0..1

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def install_plugins() -> None:
    if PLUGINS.exists():
        shutil.rmtree(PLUGINS)
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "-q", "--no-deps"),
            *("--target", str(PLUGINS), str(HERE / "plugins")),
        ],
        check=True,
    )


def _ray() -> str:
    found = shutil.which("ray", path=str(Path(sys.executable).parent))
    if not found:
        sys.exit("bench_ray: the ray command is missing: pip install 'deepaas-lite[ray]'")
    return found


@contextlib.contextmanager
def ray_cluster() -> Iterator[str]:
    """Two Ray nodes on loopback, one CPU each; yields the head's address."""
    root = Path(tempfile.mkdtemp(prefix="dlbench-", dir="/tmp"))  # short socket paths
    port = free_port()
    groups: list[int] = []
    try:
        for ip, extra in (
            (HEAD_IP, ["--head", f"--port={port}", "--include-dashboard=false"]),
            (NODE_IP, [f"--address={HEAD_IP}:{port}"]),
        ):
            starter = subprocess.Popen(
                [
                    *(_ray(), "start", f"--node-ip-address={ip}", "--num-cpus=1"),
                    *(f"--temp-dir={root / ip}", "--disable-usage-stats", *extra),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            groups.append(starter.pid)
            output, _ = starter.communicate(timeout=120)
            if starter.returncode:
                raise RuntimeError(f"ray start failed:\n{output.decode(errors='replace')}")
        yield f"{HEAD_IP}:{port}"
    finally:
        _kill_nodes(groups)
        shutil.rmtree(root, ignore_errors=True)


def _kill_nodes(groups: list[int]) -> None:
    """Kill each node's process group and its raylet's children (the Ray workers)."""
    members = [pid for pid in _pids() if _stat(pid)[1] in groups]
    workers = [pid for pid in _pids() if _stat(pid)[0] in members]
    for pid in members + workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _stat(pid: int) -> tuple[int, int]:
    """(parent, process group) of ``pid``; (0, 0) once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0, 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[2])


async def load(url: str, connections: int, seconds: float) -> tuple[int, int, list[float]]:
    """Closed loop: ``connections`` clients for ``seconds``; (ok, errors, latencies)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            started = time.monotonic()
            async with session.post(url) as response:
                await response.read()
                if response.status == 200:
                    latencies.append(time.monotonic() - started)
                else:
                    errors += 1

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(connections)))
    return len(latencies), errors, latencies


def measure(variant: str, port: int, args: argparse.Namespace) -> Round:
    url = f"http://127.0.0.1:{port}/v2/models/{MODEL}/predict/"
    asyncio.run(load(url, args.connections, args.warmup))
    started, busy = time.monotonic(), machine_busy_s()
    ok, errors, latencies = asyncio.run(load(url, args.connections, args.seconds))
    elapsed = time.monotonic() - started
    busy = (machine_busy_s() - busy) / (elapsed * (os.cpu_count() or 1))
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Round(variant, ok, errors, elapsed, cuts[49] * 1000, cuts[98] * 1000, busy)


def variants(address: str) -> dict[str, list[str]]:
    return {
        "threads": ["--predict-workers", "0"],
        "processes": ["--predict-workers", "2"],
        "ray": [
            *("--predict-executor", "ray", "--predict-workers", "2"),
            *("--ray-address", address, "--ray-node-ip-address", HEAD_IP),
            *("--ray-predict-resources", '{"num_cpus": 1}'),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s")
    parser.add_argument("--skip-install", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.warmup = 1, 3.0, 1.0
    if not args.skip_install or not PLUGINS.exists():
        install_plugins()
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(PLUGINS), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["RAY_AUTH_MODE"] = "disabled"  # a local benchmark, whatever ~/.ray holds
    run = shutil.which("deepaas-run", path=str(Path(sys.executable).parent))
    assert run, "deepaas-run is not installed next to this Python"
    rounds: list[Round] = []
    with ray_cluster() as address:
        for number in range(args.rounds):
            for variant, flags in variants(address).items():
                port = free_port()
                state = Path(tempfile.mkdtemp(prefix="dlbench-state-"))
                cmd = [run, "--listen-port", str(port), "--model-name", MODEL]
                cmd += ["--state-dir", str(state), *flags]
                log = WORK / "logs" / f"ray-{variant}.r{number}.log"
                with running(cmd, port, log, health_path="/v2/health/ready"):
                    rounds.append(measure(variant, port, args))
                shutil.rmtree(state, ignore_errors=True)
                print(_line(rounds[-1]), flush=True)
    report(rounds, args)


def _line(r: Round) -> str:
    return (
        f"{r.variant:10} {r.rate:8.1f} req/s  p50 {r.p50_ms:7.1f} ms  p99 {r.p99_ms:7.1f} ms"
        f"  errors {r.errors}  machine busy {r.busy:.0%}"
    )


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    best = {}
    for r in rounds:
        if r.variant not in best or r.rate > best[r.variant].rate:
            best[r.variant] = r
    print(
        f"\n{MODEL}, {args.connections} connections, best of {args.rounds} x {args.seconds:g} s,"
        f" {os.cpu_count()} CPUs"
    )
    print("| variant | req/s | p50 ms | p99 ms | errors | machine busy |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in best.values():
        print(
            f"| {r.variant} | {r.rate:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
            f"| {r.busy:.0%} |"
        )
    WORK.mkdir(exist_ok=True)
    out = WORK / "results" / "ray.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([r.__dict__ | {"rate": r.rate} for r in rounds], indent=1))


if __name__ == "__main__":
    main()
