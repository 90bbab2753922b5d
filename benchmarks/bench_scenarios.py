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
from pathlib import Path

from bench_envs import BENCH_DIR, MLSERVER_MODEL_DIR, WORK_DIR, Venv
from bench_load import LoadFailed, LoadResult, run_wrk
from bench_procs import (
    READY_PATH,
    Server,
    ServerFailed,
    free_port,
    machine_busy_s,
    running,
    tree_cpu_s,
    tree_switches,
)

IRIS_QUERY = "data=5.1&data=3.5&data=1.4&data=0.2"
# The same flower as an Open Inference Protocol (V2) request, for MLServer's sklearn
# runtime (one FP64 row of four) and deepaas-lite's /infer.
IRIS_V2_BODY = json.dumps(
    {
        "inputs": [
            {"name": "data", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}
        ]
    }
)
LITE_V2_BODY = json.dumps(
    {"inputs": [{"name": "data", "shape": [4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]}
)
# MLServer answers no GET /v2/models/: its model's readiness says when it serves.
MLSERVER_READY_PATH = "/v2/models/{model}/ready"
SETTLE_S = 1.0
# deepaas-lite warms models in the background after it starts answering; this says
# when they are warmed. DEEPaaS 2.6.0 warms before it listens, so for it (and the
# ceiling) "ready" is the first 200 on /v2/models/.
LITE_HEALTH_PATH = "/v2/health/ready"

# Flags for the deepaas-lite variants that need options; override any of them with
# --server-flags KEY=FLAGS.
DEFAULT_FLAGS: dict[str, str] = {
    "svc.lite-token": "--auth-token-file {token_file}",
    "svc.lite-threads": "--predict-workers 0",
    "mlserver.lite-threads": "--predict-workers 0",
    "mlserver64.lite-threads": "--predict-workers 0",
    "cpu.lite-w1": "--predict-workers 1",
    "cpu.lite-w2": "--predict-workers 2",
    "batch.lite-batch": "--max-batch-size 64 --max-batch-delay 0.002",
}


@dataclass(frozen=True)
class Variant:
    """One server configuration measured in a scenario."""

    scenario: str
    label: str
    kind: str  # "lite", "deepaas", "ceiling", "floor" or "mlserver"
    model: str
    connections: int
    query: str = ""
    infer: bool = False  # the V2 inference endpoint, with a JSON body
    token: bool = False  # sends the bearer token (the server reads --auth-token-file)
    baseline: bool = False  # deepaas-lite as it was at --baseline REF

    @property
    def key(self) -> str:
        return f"{self.scenario}.{self.label}"

    def path(self) -> str:
        if self.infer:
            return f"/v2/models/{self.model}/infer"
        suffix = f"?{self.query}" if self.query else ""
        return f"/v2/models/{self.model}/predict/{suffix}"

    @property
    def body(self) -> str:
        if not self.infer:
            return ""
        return IRIS_V2_BODY if self.kind == "mlserver" else LITE_V2_BODY


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    variants: tuple[Variant, ...]


def _pair(name: str, model: str, conns: int, query: str, baseline: bool) -> tuple[Variant, ...]:
    before = (Variant(name, "base", "lite", model, conns, query, baseline=True),)
    return (
        Variant(name, "lite", "lite", model, conns, query),
        *(before if baseline else ()),
        Variant(name, "deepaas", "deepaas", model, conns, query),
    )


def _mlserver(name: str, conns: int) -> Scenario:
    return Scenario(
        name,
        f"IRIS SVC at {conns} connections: deepaas-lite (predict, V2 infer) vs MLServer (V2)",
        (
            Variant(name, "lite", "lite", "bench-svc", conns, IRIS_QUERY),
            Variant(name, "lite-threads", "lite", "bench-svc", conns, IRIS_QUERY),
            Variant(name, "lite-infer", "lite", "bench-svc", conns, infer=True),
            Variant(name, "mlserver", "mlserver", "bench-svc", conns, infer=True),
        ),
    )


def build_scenarios(
    connections: int, batch_connections: int, baseline: bool = False
) -> dict[str, Scenario]:
    """Every scenario, in the order they run by default. ``baseline``: the noop and svc
    scenarios also measure deepaas-lite at --baseline REF."""
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
    floor = Variant("noop", "floor", "floor", "bench-noop", c)
    token = Variant("svc", "lite-token", "lite", "bench-svc", c, IRIS_QUERY, token=True)
    threads = Variant("svc", "lite-threads", "lite", "bench-svc", c, IRIS_QUERY)
    scenarios = [
        Scenario(
            "noop",
            "no-op plugin; a bare aiohttp handler as the ceiling, and the floor: that "
            "handler with the least the defaults must do (ceiling_server.py)",
            (*_pair("noop", "bench-noop", c, "", baseline), ceiling, floor),
        ),
        Scenario(
            "svc",
            "IRIS SVC, one row per request; with and without bearer tokens; in one "
            "worker process (the default) and in threads",
            (*_pair("svc", "bench-svc", c, IRIS_QUERY, baseline), token, threads),
        ),
        Scenario("cpu", "~5 ms pure Python per call, predict workers 1 vs 2", cpu),
        Scenario("batch", f"IRIS SVC at {bc} connections, predict_batch vs not", batch),
        _mlserver("mlserver", c),
        _mlserver("mlserver64", bc),
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
    mlserver: Venv | None = None
    mlserver_workers: int = 0
    lite_source: str = ""  # deepaas-lite's source on PYTHONPATH ("": as installed)
    baseline_source: str = ""  # the same for --baseline variants
    token: str = ""
    token_file: str = ""


def server_env(variant: Variant, s: RunSettings) -> dict[str, str]:
    """What the server's environment adds: the source tree of deepaas-lite to run."""
    if variant.kind != "lite":
        return {}
    source = s.baseline_source if variant.baseline else s.lite_source
    return {"PYTHONPATH": source} if source else {}


def _mlserver_dir(variant: Variant, port: int, round_no: int, s: RunSettings) -> Path:
    """MLServer's settings for one round: its ports, its workers, the saved SVC."""
    root = WORK_DIR / "mlserver-run" / f"{variant.key}.r{round_no}"
    model = root / variant.model
    model.mkdir(parents=True, exist_ok=True)
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        "parallel_workers": s.mlserver_workers,
    }
    (root / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": variant.model,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(MLSERVER_MODEL_DIR / f"{variant.model}.joblib")},
    }
    (model / "model-settings.json").write_text(json.dumps(model_settings))
    return root


def server_command(
    variant: Variant, flags: list[str], port: int, s: RunSettings, round_no: int = 0
) -> list[str]:
    if variant.kind in ("ceiling", "floor"):
        bare = [str(s.lite.python), str(BENCH_DIR / "ceiling_server.py"), str(port)]
        return [*bare, "--floor"] if variant.kind == "floor" else bare
    if variant.kind == "mlserver":
        if s.mlserver is None:
            raise ServerFailed("MLServer's virtualenv is not set up", unsupported=True)
        root = _mlserver_dir(variant, port, round_no, s)
        return [str(s.mlserver.script("mlserver")), "start", str(root), *flags]
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
    return cmd + [f.replace("{token_file}", s.token_file) for f in flags]


def check_one(server: Server, variant: Variant, s: RunSettings) -> str:
    """POST once as wrk will; the body, or ServerFailed when it is not a 200."""
    headers = {"Accept": "application/json"}
    if variant.body:
        headers["Content-Type"] = "application/json"
    if variant.token:
        headers["Authorization"] = f"Bearer {s.token}"
    request = urllib.request.Request(
        server.url(variant.path()),
        data=variant.body.encode(),
        method="POST",
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read().decode(errors="replace")
    except OSError as exc:  # HTTPError included
        detail = exc.read().decode(errors="replace") if hasattr(exc, "read") else ""
        missing = variant.infer and getattr(exc, "code", None) == 404  # no /infer yet
        raise ServerFailed(
            f"sample request failed: {exc} {detail[:200]}", unsupported=missing
        ) from exc
    json.loads(body)
    return body[:200]


def load(server: Server, variant: Variant, s: RunSettings, duration: float) -> LoadResult:
    return run_wrk(
        s.wrk,
        server.url(variant.path()),
        connections=variant.connections,
        duration_s=duration,
        threads=s.wrk_threads,
        body=variant.body,
        token=s.token if variant.token else "",
    )


@dataclass(frozen=True)
class CpuShare:
    """Cores used during the load window: the server's tree, wrk, everything else."""

    server: float
    wrk: float
    other: float
    switches: int = 0  # the server's voluntary context switches


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load_accounted(
    server: Server, variant: Variant, s: RunSettings
) -> tuple[LoadResult, CpuShare]:
    """The measured load, and who used the CPU meanwhile."""
    pid = server.process.pid
    switched = tree_switches(pid)
    before = (time.monotonic(), machine_busy_s(), tree_cpu_s(pid), _children_cpu_s())
    result = load(server, variant, s, s.duration_s)
    after = (time.monotonic(), machine_busy_s(), tree_cpu_s(pid), _children_cpu_s())
    switched = tree_switches(pid) - switched
    wall, busy, tree, wrk = (a - b for a, b in zip(after, before, strict=True))
    share = CpuShare(tree / wall, wrk / wall, max(0.0, busy - tree - wrk) / wall, switched)
    return result, share


def measure_round(outcome: VariantOutcome, round_no: int, s: RunSettings) -> None:
    """Spawn the server, measure idle memory, check one answer, load it, stop it."""
    variant = outcome.variant
    port = free_port()
    log = WORK_DIR / "logs" / f"{variant.key}.r{round_no}.log"
    cmd = server_command(variant, outcome.flags, port, s, round_no)
    health = LITE_HEALTH_PATH if variant.kind == "lite" else None
    mlserver = variant.kind == "mlserver"
    ready = MLSERVER_READY_PATH.format(model=variant.model) if mlserver else READY_PATH
    env = server_env(variant, s)
    with running(cmd, port, log, health, ready_path=ready, env=env) as server:
        time.sleep(SETTLE_S)
        rss_idle = server.rss_mib()
        outcome.sample = check_one(server, variant, s)
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
