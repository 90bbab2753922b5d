"""The printed report: a table per scenario, the ratios, and the targets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench_scenarios import VariantOutcome

Outcomes = dict[str, VariantOutcome]

_HEADER = (
    f"{'variant':<18} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'non2xx':>7} {'errors':>7} {'idle MiB':>9} {'load MiB':>9} {'start s':>8} "
    f"{'ready s':>8} {'cores':>6}"
)


def _row(o: VariantOutcome) -> str:
    v = o.variant
    if not o.ok:
        return f"{v.key:<18} {v.connections:>5}   {o.status}: {o.reason[:200]}"
    return (
        f"{v.key:<18} {v.connections:>5} {o.rps:>9.0f} {o.p50_ms:>8.2f} "
        f"{o.p99_ms:>8.2f} {o.non2xx:>7} {o.errors:>7} {o.rss_idle_mib:>9.1f} "
        f"{o.rss_loaded_mib:>9.1f} {o.startup_s:>8.2f} {o.ready_s:>8.2f} "
        f"{o.server_cores:>6.2f}"
    )


def table(outcomes: list[VariantOutcome]) -> list[str]:
    """The figures of one scenario (medians of rounds; error counts are totals)."""
    lines = [_HEADER]
    for o in outcomes:
        lines.append(_row(o))
        if o.flags:
            lines.append(f"{'':<18}   flags: {' '.join(o.flags)}")
    return lines


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def _reference(all_outcomes: Outcomes, lite: VariantOutcome) -> VariantOutcome | None:
    """What a deepaas-lite variant is compared with: DEEPaaS, or MLServer."""
    scenario = lite.variant.scenario
    return all_outcomes.get(f"{scenario}.deepaas") or all_outcomes.get(f"{scenario}.mlserver")


def ratios(all_outcomes: Outcomes) -> list[str]:
    """Each deepaas-lite variant against DEEPaaS (or MLServer) in the same scenario."""
    lines = [
        f"{'lite vs deepaas or mlserver':<40} {'req/s':>7} {'p99':>7} {'idle RSS':>9} "
        f"{'startup':>8} {'ready':>7}"
    ]
    for lite in all_outcomes.values():
        v = lite.variant
        ref = _reference(all_outcomes, lite)
        if v.kind != "lite" or ref is None or not (lite.ok and ref.ok):
            continue
        lines.append(
            f"{v.key + ' / ' + ref.variant.key:<40} {_ratio(lite.rps, ref.rps):>7} "
            f"{_ratio(lite.p99_ms, ref.p99_ms):>7} "
            f"{_ratio(lite.rss_idle_mib, ref.rss_idle_mib):>9} "
            f"{_ratio(lite.startup_s, ref.startup_s):>8} "
            f"{_ratio(lite.ready_s, ref.ready_s):>7}"
        )
    for key, bound, named in (
        ("noop.lite", "noop.aiohttp", "bare aiohttp ceiling"),
        ("noop.base", "noop.aiohttp", "bare aiohttp ceiling"),
        ("noop.floor", "noop.aiohttp", "bare aiohttp ceiling"),
        ("noop.lite", "noop.floor", "floor (the least the defaults do)"),
    ):
        noop, top = all_outcomes.get(key), all_outcomes.get(bound)
        if noop and top and noop.ok and top.ok:
            lines.append(
                f"{key} / {named}: {_ratio(noop.rps, top.rps)}"
                f" ({noop.rps:.0f} / {top.rps:.0f} req/s)"
            )
    for o in all_outcomes.values():
        if o.ok and o.variant.kind != "deepaas":
            lines.append(
                f"{o.variant.key}: server CPU per request {_cpu_per_request_us(o):.0f} us, "
                f"voluntary context switches per request {_switches_per_request(o):.2f}"
            )
    return lines


def _switches_per_request(o: VariantOutcome) -> float:
    """Times a thread of the server blocked and was woken again, per answered request:
    the hand-overs between threads (the GIL, queues) and the waits for the network."""
    return o.median(lambda r: r.cpu.switches / r.load.requests if r.load.requests else 0.0)


def _cpu_per_request_us(o: VariantOutcome) -> float:
    """The server's CPU time per answered request (medians of rounds)."""
    return o.median(lambda r: r.cpu.server / r.load.rps * 1e6 if r.load.rps else 0.0)


@dataclass(frozen=True)
class Target:
    name: str
    keys: tuple[str, ...]
    check: Callable[..., tuple[bool, str]]


def _at_least(factor: float, metric: str) -> Callable[..., tuple[bool, str]]:
    def check(a: VariantOutcome, b: VariantOutcome) -> tuple[bool, str]:
        x, y = getattr(a, metric), getattr(b, metric)
        got = x / y if y else 0.0
        return got >= factor, f"{got:.2f}x ({x:.1f} vs {y:.1f}), need >= {factor}x"

    return check


def _at_most(factor: float, metric: str) -> Callable[..., tuple[bool, str]]:
    def check(a: VariantOutcome, b: VariantOutcome) -> tuple[bool, str]:
        x, y = getattr(a, metric), getattr(b, metric)
        got = x / y if y else float("inf")
        return got <= factor, f"{got:.2f}x ({x:.2f} vs {y:.2f}), need <= {factor}x"

    return check


def _no_errors(*outcomes: VariantOutcome) -> tuple[bool, str]:
    counts = ", ".join(f"{o.variant.key}: {o.errors}" for o in outcomes)
    return all(o.errors == 0 for o in outcomes), counts


TARGETS = (
    Target(
        "predict throughput >= 5x DEEPaaS (svc)",
        ("svc.lite", "svc.deepaas"),
        _at_least(5.0, "rps"),
    ),
    Target(
        "predict p99 <= 0.25x DEEPaaS (svc)",
        ("svc.lite", "svc.deepaas"),
        _at_most(0.25, "p99_ms"),
    ),
    Target(
        "with --auth-token-file within 5% (svc)",
        ("svc.lite-token", "svc.lite"),
        _at_least(0.95, "rps"),
    ),
    Target(
        "zero errors (lite: svc, svc threads, noop)",
        ("svc.lite", "svc.lite-threads", "noop.lite"),
        _no_errors,
    ),
    Target(
        "no-op >= 0.8x bare aiohttp ceiling",
        ("noop.lite", "noop.aiohttp"),
        _at_least(0.8, "rps"),
    ),
    Target(
        "idle RSS <= DEEPaaS (svc)",
        ("svc.lite", "svc.deepaas"),
        _at_most(1.0, "rss_idle_mib"),
    ),
    Target(
        "idle RSS <= DEEPaaS (noop)",
        ("noop.lite", "noop.deepaas"),
        _at_most(1.0, "rss_idle_mib"),
    ),
    Target(
        "startup <= DEEPaaS (svc)",
        ("svc.lite", "svc.deepaas"),
        _at_most(1.0, "startup_s"),
    ),
    Target(
        "startup <= DEEPaaS (noop)",
        ("noop.lite", "noop.deepaas"),
        _at_most(1.0, "startup_s"),
    ),
    Target(
        "cpu: --predict-workers 2 >= 1.7x workers 1",
        ("cpu.lite-w2", "cpu.lite-w1"),
        _at_least(1.7, "rps"),
    ),
    Target(
        "batched SVC >= 8x DEEPaaS SVC (batch conns)",
        ("batch.lite-batch", "batch.deepaas"),
        _at_least(8.0, "rps"),
    ),
    Target(
        "SVC >= 2x MLServer (16 conns)",
        ("mlserver.lite", "mlserver.mlserver"),
        _at_least(2.0, "rps"),
    ),
    Target(
        "SVC p99 < MLServer's (16 conns)",
        ("mlserver.lite", "mlserver.mlserver"),
        _at_most(0.999, "p99_ms"),
    ),
    Target(
        "SVC >= 2x MLServer (64 conns)",
        ("mlserver64.lite", "mlserver64.mlserver"),
        _at_least(2.0, "rps"),
    ),
    Target(
        "SVC p99 < MLServer's (64 conns)",
        ("mlserver64.lite", "mlserver64.mlserver"),
        _at_most(0.999, "p99_ms"),
    ),
)


def evaluate(target: Target, outcomes: Outcomes) -> tuple[str, str]:
    """PASS / FAIL, or SKIPPED / FAILED / NOT RUN when a variant has no figures."""
    missing = [k for k in target.keys if k not in outcomes]
    if missing:
        return "NOT RUN", f"scenario not selected: {', '.join(missing)}"
    broken = [outcomes[k] for k in target.keys if not outcomes[k].ok]
    if broken:
        first = broken[0]
        status = "SKIPPED" if first.status == "SKIPPED" else "FAILED"
        return status, f"{first.variant.key}: {first.reason[:160]}"
    passed, detail = target.check(*(outcomes[k] for k in target.keys))
    return ("PASS" if passed else "FAIL"), detail


def targets(outcomes: Outcomes) -> list[str]:
    lines = []
    for target in TARGETS:
        status, detail = evaluate(target, outcomes)
        lines.append(f"{status:<8} {target.name:<46} {detail}")
    return lines


def background(outcomes: Outcomes) -> list[str]:
    """CPU used by other work during the load windows: it skews the figures."""
    others = [r.cpu.other for o in outcomes.values() for r in o.rounds]
    if not others:
        return []
    worst = max(others)
    line = f"cores used by other processes during load: at most {worst:.2f}"
    return [line + (" (figures may be noisy)" if worst > 0.25 else "")]
