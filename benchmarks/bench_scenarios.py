"""What is measured: scenarios, their server variants, and the rounds that measure them.

A scenario alternates its variants round by round (lite, deepaas, lite, deepaas...);
each round spawns a fresh server, so every round also samples startup time and idle
memory. A variant whose server rejects its flags is SKIPPED, one that fails otherwise
is FAILED; the other variants and scenarios go on.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from bench_envs import BENCH_DIR, WORK_DIR, Venv
from bench_load import LoadFailed, LoadResult, run_wrk
from bench_procs import (
    Server,
    ServerFailed,
    free_port,
    machine_busy_s,
    running,
    tree_cpu_s,
)

IRIS_QUERY = "data=5.1&data=3.5&data=1.4&data=0.2"
SETTLE_S = 1.0
# deepaas-lite warms models in the background after it starts answering; this says
# when they are warmed. DEEPaaS 2.6.0 warms before it listens, so for it (and the
# ceiling) "ready" is the first 200 on /v2/models/.
LITE_HEALTH_PATH = "/v2/health/ready"

# Flags for the deepaas-lite variants that need options; override any of them with
# --server-flags KEY=FLAGS.
DEFAULT_FLAGS: dict[str, str] = {
    "cpu.lite-w1": "--predict-workers 1",
    "cpu.lite-w2": "--predict-workers 2",
    "batch.lite-batch": "--max-batch-size 64 --max-batch-delay 0.002",
}


@dataclass(frozen=True)
class Variant:
    """One server configuration measured in a scenario."""

    scenario: str
    label: str
    kind: str  # "lite", "deepaas" or "ceiling"
    model: str
    connections: int
    query: str = ""

    @property
    def key(self) -> str:
        return f"{self.scenario}.{self.label}"

    def path(self) -> str:
        suffix = f"?{self.query}" if self.query else ""
        return f"/v2/models/{self.model}/predict/{suffix}"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    variants: tuple[Variant, ...]


def _pair(name: str, model: str, conns: int, query: str) -> tuple[Variant, ...]:
    return (
        Variant(name, "lite", "lite", model, conns, query),
        Variant(name, "deepaas", "deepaas", model, conns, query),
    )


def build_scenarios(connections: int, batch_connections: int) -> dict[str, Scenario]:
    """Every scenario, in the order they run by default."""
    c, bc = connections, batch_connections
    cpu = tuple(
        Variant("cpu", label, kind, "bench-cpu", c)
        for label, kind in (
            ("lite-w1", "lite"),
            ("lite-w2", "lite"),
            ("deepaas", "deepaas"),
        )
    )
    batch = (
        Variant("batch", "lite-batch", "lite", "bench-svc-batch", bc, IRIS_QUERY),
        Variant("batch", "lite", "lite", "bench-svc", bc, IRIS_QUERY),
        Variant("batch", "deepaas", "deepaas", "bench-svc", bc, IRIS_QUERY),
    )
    ceiling = Variant("noop", "aiohttp", "ceiling", "bench-noop", c)
    scenarios = [
        Scenario(
            "noop",
            "no-op plugin; a bare aiohttp handler as the ceiling",
            (*_pair("noop", "bench-noop", c, ""), ceiling),
        ),
        Scenario(
            "svc",
            "IRIS SVC, one row per request",
            _pair("svc", "bench-svc", c, IRIS_QUERY),
        ),
        Scenario("cpu", "~5 ms pure Python per call, predict workers 1 vs 2", cpu),
        Scenario("batch", f"IRIS SVC at {bc} connections, predict_batch vs not", batch),
    ]
    return {s.name: s for s in scenarios}


@dataclass
class RoundResult:
    load: LoadResult
    startup_s: float
    ready_s: float
    rss_idle_mib: float
    rss_loaded_mib: float
    cpu: CpuShare


@dataclass
class VariantOutcome:
    """Every round of one variant, or why it stopped."""

    variant: Variant
    flags: list[str]
    rounds: list[RoundResult] = field(default_factory=list)
    status: str = "OK"  # OK, SKIPPED or FAILED
    reason: str = ""
    sample: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "OK" and bool(self.rounds)

    def median(self, metric: Callable[[RoundResult], float]) -> float:
        return statistics.median(metric(r) for r in self.rounds)

    @property
    def rps(self) -> float:
        return self.median(lambda r: r.load.rps)

    @property
    def p50_ms(self) -> float:
        return self.median(lambda r: r.load.p50_ms)

    @property
    def p99_ms(self) -> float:
        return self.median(lambda r: r.load.p99_ms)

    @property
    def errors(self) -> int:
        return sum(r.load.errors for r in self.rounds)

    @property
    def non2xx(self) -> int:
        return sum(r.load.non2xx for r in self.rounds)

    @property
    def server_cores(self) -> float:
        return self.median(lambda r: r.cpu.server)

    @property
    def other_cores(self) -> float:
        return max(r.cpu.other for r in self.rounds)

    @property
    def rss_idle_mib(self) -> float:
        return self.median(lambda r: r.rss_idle_mib)

    @property
    def rss_loaded_mib(self) -> float:
        return self.median(lambda r: r.rss_loaded_mib)

    @property
    def startup_s(self) -> float:
        return self.median(lambda r: r.startup_s)

    @property
    def ready_s(self) -> float:
        return self.median(lambda r: r.ready_s)


@dataclass(frozen=True)
class RunSettings:
    """How long and how hard to load, and with what."""

    duration_s: float
    warmup_s: float
    rounds: int
    wrk: str
    wrk_threads: int
    lite: Venv
    deepaas: Venv


def server_command(variant: Variant, flags: list[str], port: int, s: RunSettings) -> list[str]:
    if variant.kind == "ceiling":
        return [str(s.lite.python), str(BENCH_DIR / "ceiling_server.py"), str(port)]
    venv = s.lite if variant.kind == "lite" else s.deepaas
    cmd = [
        str(venv.script("deepaas-run")),
        "--listen-ip",
        "127.0.0.1",
        "--listen-port",
        str(port),
        "--model-name",
        variant.model,
    ]
    if variant.kind == "lite":
        cmd += ["--state-dir", str(WORK_DIR / "state" / variant.key)]
    return cmd + flags


def check_one(server: Server, variant: Variant) -> str:
    """POST once as wrk will; the body, or ServerFailed when it is not a 200."""
    request = urllib.request.Request(
        server.url(variant.path()),
        data=b"",
        method="POST",
        headers={"Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read().decode(errors="replace")
    except OSError as exc:  # HTTPError included
        detail = exc.read().decode(errors="replace") if hasattr(exc, "read") else ""
        raise ServerFailed(f"sample request failed: {exc} {detail[:200]}") from exc
    json.loads(body)
    return body[:200]


def load(server: Server, variant: Variant, s: RunSettings, duration: float) -> LoadResult:
    return run_wrk(
        s.wrk,
        server.url(variant.path()),
        connections=variant.connections,
        duration_s=duration,
        threads=s.wrk_threads,
    )


@dataclass(frozen=True)
class CpuShare:
    """Cores used during the load window: the server's tree, wrk, everything else."""

    server: float
    wrk: float
    other: float


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load_accounted(
    server: Server, variant: Variant, s: RunSettings
) -> tuple[LoadResult, CpuShare]:
    """The measured load, and who used the CPU meanwhile."""
    pid = server.process.pid
    before = (time.monotonic(), machine_busy_s(), tree_cpu_s(pid), _children_cpu_s())
    result = load(server, variant, s, s.duration_s)
    after = (time.monotonic(), machine_busy_s(), tree_cpu_s(pid), _children_cpu_s())
    wall, busy, tree, wrk = (a - b for a, b in zip(after, before, strict=True))
    share = CpuShare(tree / wall, wrk / wall, max(0.0, busy - tree - wrk) / wall)
    return result, share


def measure_round(outcome: VariantOutcome, round_no: int, s: RunSettings) -> None:
    """Spawn the server, measure idle memory, check one answer, load it, stop it."""
    variant = outcome.variant
    port = free_port()
    log = WORK_DIR / "logs" / f"{variant.key}.r{round_no}.log"
    cmd = server_command(variant, outcome.flags, port, s)
    health = LITE_HEALTH_PATH if variant.kind == "lite" else None
    with running(cmd, port, log, health) as server:
        time.sleep(SETTLE_S)
        rss_idle = server.rss_mib()
        outcome.sample = check_one(server, variant)
        if s.warmup_s > 0:
            load(server, variant, s, s.warmup_s)
        load_result, cpu = _load_accounted(server, variant, s)
        rss_loaded = server.rss_mib()
    outcome.rounds.append(
        RoundResult(load_result, server.startup_s, server.ready_s, rss_idle, rss_loaded, cpu)
    )


def _note(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _measure_safely(outcome: VariantOutcome, round_no: int, s: RunSettings) -> None:
    key = outcome.variant.key
    try:
        measure_round(outcome, round_no, s)
    except ServerFailed as exc:
        outcome.status = "SKIPPED" if exc.unsupported else "FAILED"
        outcome.reason = str(exc)
    except (LoadFailed, ValueError, OSError) as exc:
        outcome.status, outcome.reason = "FAILED", f"{type(exc).__name__}: {exc}"
    if outcome.status != "OK":
        _note(f"{key} round {round_no}: {outcome.status}: {outcome.reason[:300]}")
        return
    last = outcome.rounds[-1]
    _note(
        f"{key} round {round_no}: {last.load.rps:.0f} req/s, "
        f"p99 {last.load.p99_ms:.1f} ms, errors {last.load.errors}, "
        f"startup {last.startup_s:.2f} s, idle RSS {last.rss_idle_mib:.0f} MiB, "
        f"cores: server {last.cpu.server:.2f} wrk {last.cpu.wrk:.2f} "
        f"other {last.cpu.other:.2f}"
    )


def run_scenario(
    scenario: Scenario, flags: dict[str, list[str]], s: RunSettings
) -> list[VariantOutcome]:
    """Alternate the scenario's variants for ``s.rounds`` rounds."""
    outcomes = [VariantOutcome(v, flags.get(v.key, [])) for v in scenario.variants]
    _note(f"scenario {scenario.name}: {scenario.description}")
    for round_no in range(1, s.rounds + 1):
        for outcome in outcomes:
            if outcome.status == "OK":
                _measure_safely(outcome, round_no, s)
    return outcomes
