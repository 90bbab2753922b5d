#!/usr/bin/env python3
"""Hostile load: can clients that misbehave stall deepaas-lite for the others?

One ``deepaas-run`` serving the IRIS plugin on 127.0.0.1. Phases alternate, quiet and
hostile, ``--rounds`` times each, ``--duration`` seconds each:

- always: ``--clients`` (64) kept-alive wrk connections predicting on iris, and a
  health probe (``GET /v2/health/live``) every 20 ms on a kept-alive connection, plus
  one on a new connection every 250 ms;
- hostile phases add ``--idle`` (1,000) connections that each sent half a request
  header (opened again as the server closes them at its header timeout) and one
  JSON POST a second as large as ``--json-max-size`` allows (4 MiB: iris's four
  numbers and a list of floats under a key iris does not have, decoded to its end
  before the 422).

It prints health latency (target: always under 100 ms), predict p50/p99 and the ratio
of hostile to quiet p99 (target: at most 2), errors of the predict clients and the
probes (target: 0), the large POSTs' answers, and the server's memory (target: no
growth from the first hostile phase to the last). Everything runs on loopback and ends
within about ``2 * rounds * (duration + 2)`` seconds plus the server's start.

Usage: ``python3 benchmarks/bench_hostile.py [--duration 10] [--rounds 2]``; see
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024
MODEL = "iris-deepaas"
PREDICT = f"/v2/models/{MODEL}/predict/"
QUERY = "?data=5.1&data=3.5&data=1.4&data=0.2"
HALF_HEADER = b"GET /v2/models/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
HEALTH_MS_TARGET = 100.0
P99_RATIO_TARGET = 2.0

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Accept"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'HOSTILE_JSON {"requests": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, '
    .. '"errors": %d}\\n', summary.requests, latency:percentile(50),
    latency:percentile(99), bad, e.connect + e.read + e.write + e.timeout))
end
"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per phase")
    p.add_argument("--rounds", type=int, default=2, help="quiet and hostile phases each")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--idle", type=int, default=1000, help="half-header connections")
    p.add_argument("--json-max-size", type=int, default=4 * MIB)
    p.add_argument(
        "--deepaas-run",
        default=shutil.which("deepaas-run", path=str(Path(sys.executable).parent)) or "deepaas-run",
        help="the deepaas-run to measure (default: the one next to this Python)",
    )
    p.add_argument("--server-flags", default="", help="extra flags for deepaas-run")
    return p.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_open_files(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def tree_rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, in MiB."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(child) for child in children)
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its descendants so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU time every core of the machine has been busy so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Probe:
    """Health latencies (ms) and errors, per phase."""

    kept: list[float] = field(default_factory=list)
    fresh: list[float] = field(default_factory=list)
    errors: int = 0


class HealthProber(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.probe = Probe()
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        next_fresh = time.monotonic()
        while not self.stopping.is_set():
            self.probe.kept.append(self._get(conn))
            if time.monotonic() >= next_fresh:
                fresh = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.probe.fresh.append(self._get(fresh))
                fresh.close()
                next_fresh += 0.25
            time.sleep(0.02)
        conn.close()

    def _get(self, conn: http.client.HTTPConnection) -> float:
        start = time.perf_counter()
        try:
            conn.request("GET", "/v2/health/live", headers={"Host": "localhost"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                self.probe.errors += 1
        except (OSError, http.client.HTTPException):
            self.probe.errors += 1
            conn.close()
        return (time.perf_counter() - start) * 1000


class IdleConnections(threading.Thread):
    """``count`` connections that sent half a header, reopened as the server closes them."""

    def __init__(self, port: int, count: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.count = count
        self.stopping = threading.Event()
        self.opened = 0
        self.closed_by_server = 0

    def _open(self, selector: selectors.BaseSelector) -> None:
        sock = socket.socket()
        sock.setblocking(True)
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(HALF_HEADER)
        except OSError:
            sock.close()
            return
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
        self.opened += 1

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        while len(selector.get_map()) < self.count and not self.stopping.is_set():
            self._open(selector)
        while not self.stopping.is_set():
            for key, _ in selector.select(timeout=0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    selector.unregister(sock)
                    sock.close()
                    self.closed_by_server += 1
            while len(selector.get_map()) < self.count and not self.stopping.is_set():
                self._open(selector)
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        selector.close()


def large_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes: iris's data, and a long list of floats
    under another key (decoded to its end before it is found unknown: a 422)."""
    count = (size - 60) // len("1.25, ")
    body = json.dumps({"data": [5.1, 3.5, 1.4, 0.2], "padding": [1.25] * count}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


class LargePosts(threading.Thread):
    """One maximum-size JSON POST a second, each on a new connection."""

    def __init__(self, port: int, size: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.body = large_body(size)
        self.stopping = threading.Event()
        self.statuses: dict[str, int] = {}
        self.seconds: list[float] = []

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stopping.is_set():
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                conn.request(
                    "POST",
                    PREDICT,
                    body=self.body,
                    headers={"Content-Type": "application/json", "Host": "localhost"},
                )
                resp = conn.getresponse()
                resp.read()
                status = str(resp.status)
                conn.close()
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            self.seconds.append(time.perf_counter() - start)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            next_at += 1.0
            self.stopping.wait(max(0.0, next_at - time.monotonic()))


@dataclass
class Phase:
    name: str
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    probe: Probe
    rss_max_mib: float
    posts: dict[str, int] = field(default_factory=dict)
    post_seconds: list[float] = field(default_factory=list)
    idle_open: int = 0
    idle_closed: int = 0
    server_cores: float = 0.0
    other_cores: float = 0.0


def run_phase(
    name: str, port: int, server: subprocess.Popen[bytes], args: argparse.Namespace, lua: Path
) -> Phase:
    hostile = name.startswith("hostile")
    prober = HealthProber(port)
    idle = IdleConnections(port, args.idle) if hostile else None
    posts = LargePosts(port, args.json_max_size) if hostile else None
    if idle is not None:
        idle.start()
        deadline = time.monotonic() + 30
        while idle.opened < args.idle and time.monotonic() < deadline:
            time.sleep(0.05)
    prober.start()
    if posts is not None:
        posts.start()
    rss: list[float] = []
    started = time.monotonic()
    server_cpu, machine_cpu = tree_cpu_seconds(server.pid), machine_busy_seconds()
    wrk = subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{args.clients}",
            f"-d{args.duration}s",
            "-s",
            str(lua),
            f"http://127.0.0.1:{port}{PREDICT}{QUERY}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    while wrk.poll() is None:
        rss.append(tree_rss_mib(server.pid))
        time.sleep(0.5)
    out = wrk.stdout.read() if wrk.stdout else ""
    elapsed = time.monotonic() - started
    server_cores = (tree_cpu_seconds(server.pid) - server_cpu) / elapsed
    machine_cores = (machine_busy_seconds() - machine_cpu) / elapsed
    for thread in (prober, idle, posts):
        if thread is not None:
            thread.stopping.set()
    for thread in (prober, idle, posts):
        if thread is not None:
            thread.join(timeout=130)
    lines = [line for line in out.splitlines() if line.startswith("HOSTILE_JSON ")]
    if not lines:
        raise RuntimeError(f"wrk said no figures in phase {name}:\n{out}")
    line = lines[0]
    figures = json.loads(line.split(" ", 1)[1])
    return Phase(
        name=name,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        requests=figures["requests"],
        errors=figures["non2xx"] + figures["errors"],
        probe=prober.probe,
        rss_max_mib=max(rss, default=0.0),
        posts=dict(posts.statuses) if posts else {},
        post_seconds=list(posts.seconds) if posts else [],
        idle_open=idle.opened if idle else 0,
        idle_closed=idle.closed_by_server if idle else 0,
        server_cores=server_cores,
        other_cores=max(0.0, machine_cores - server_cores),
    )


def _call(port: int, method: str, path: str) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, headers={"Host": "localhost", "Accept": "application/json"})
    resp = conn.getresponse()
    answer = json.loads(resp.read() or b"{}")
    conn.close()
    return resp.status, answer


def train_first(port: int, timeout: float = 300) -> None:
    """The IRIS plugin predicts once trained: train it, and wait until it predicts."""
    status, record = _call(port, "POST", f"/v2/models/{MODEL}/train/")
    if status != 200:
        raise RuntimeError(f"training iris failed to start: {status} {record}")
    deadline = time.monotonic() + timeout
    while _call(port, "POST", PREDICT + QUERY)[0] != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("iris never answered a prediction after its training")
        time.sleep(0.5)


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def report(phases: list[Phase], idle_rss: float, args: argparse.Namespace) -> int:
    print(
        f"deepaas-lite under hostile load: {args.clients} predict clients on {MODEL}; "
        f"hostile phases add {args.idle} half-header connections and one "
        f"{args.json_max_size / MIB:g} MiB JSON POST a second; {args.duration:g} s phases"
    )
    header = (
        f"{'phase':<10} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'health max ms':>13} {'health p99':>10} {'new-conn max':>12} {'probe err':>9} "
        f"{'RSS MiB':>8} {'cores':>5} {'other':>5}  large POSTs"
    )
    print(header)
    for phase in phases:
        posts = ", ".join(f"{k}: {v}" for k, v in sorted(phase.posts.items())) or "-"
        if phase.post_seconds:
            posts += f" (median {statistics.median(phase.post_seconds):.2f} s each)"
        print(
            f"{phase.name:<10} {phase.requests / args.duration:>7.0f} {phase.p50_ms:>7.2f} "
            f"{phase.p99_ms:>7.2f} {phase.errors:>6} {max(phase.probe.kept):>13.1f} "
            f"{_p99(phase.probe.kept):>10.1f} {max(phase.probe.fresh, default=0):>12.1f} "
            f"{phase.probe.errors:>9} {phase.rss_max_mib:>8.1f} {phase.server_cores:>5.2f} "
            f"{phase.other_cores:>5.2f}  {posts}"
        )
    quiet = [p for p in phases if p.name.startswith("quiet")]
    hostile = [p for p in phases if p.name.startswith("hostile")]
    health_max = max(max(p.probe.kept + p.probe.fresh) for p in phases)
    ratio = statistics.median(p.p99_ms for p in hostile) / statistics.median(
        p.p99_ms for p in quiet
    )
    errors = sum(p.errors + p.probe.errors for p in phases)
    growth = hostile[-1].rss_max_mib - hostile[0].rss_max_mib
    print(
        f"idle RSS {idle_rss:.1f} MiB; idle connections closed by the server: "
        + ", ".join(str(p.idle_closed) for p in hostile)
    )
    checks = [
        (
            f"health always < {HEALTH_MS_TARGET:g} ms",
            health_max < HEALTH_MS_TARGET,
            f"worst {health_max:.1f} ms",
        ),
        (
            f"predict p99 hostile/quiet <= {P99_RATIO_TARGET:g}x",
            ratio <= P99_RATIO_TARGET,
            f"{ratio:.2f}x (medians of phases)",
        ),
        ("0 errors (predict clients and probes)", errors == 0, f"{errors}"),
        (
            "memory bounded (no growth between hostile phases)",
            growth < 0.25 * idle_rss + 16,
            f"{hostile[0].rss_max_mib:.1f} -> {hostile[-1].rss_max_mib:.1f} MiB",
        ),
    ]
    failed = 0
    for label, ok, figure in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: {figure}")
        failed += not ok
    return 1 if failed else 0


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("bench_hostile: wrk is missing (apt-get install wrk)", file=sys.stderr)
        return 2
    raise_open_files(args.idle * 2 + 1024)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="deepaas-hostile-") as tmp:
        lua = Path(tmp) / "hostile.lua"
        lua.write_text(WRK_SCRIPT)
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [
                args.deepaas_run,
                "--listen-ip",
                "127.0.0.1",
                "--listen-port",
                str(port),
                "--model-name",
                MODEL,
                "--state-dir",
                str(Path(tmp) / "state"),
                "--json-max-size",
                str(args.json_max_size),
                *args.server_flags.split(),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: raise_open_files(args.idle * 2 + 1024),
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    log.close()
                    print((Path(tmp) / "server.log").read_text(), file=sys.stderr)
                    return 2
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/v2/health/ready")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    print("bench_hostile: the server never got ready", file=sys.stderr)
                    return 2
                time.sleep(0.2)
            train_first(port)
            time.sleep(1)
            idle_rss = tree_rss_mib(server.pid)
            phases = []
            for n in range(args.rounds):
                for name in ("quiet", "hostile"):
                    phases.append(run_phase(f"{name}.{n + 1}", port, server, args, lua))
                    time.sleep(1)
            return report(phases, idle_rss, args)
        finally:
            try:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
            log.close()
            server_log = (Path(tmp) / "server.log").read_text(errors="replace")
            tracebacks = server_log.count("Traceback")
            print(f"server log: {len(server_log.splitlines())} lines, {tracebacks} tracebacks")


if __name__ == "__main__":
    sys.exit(main())
