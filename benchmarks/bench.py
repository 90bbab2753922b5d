#!/usr/bin/env python3
"""deepaas-lite vs DEEPaaS 2.6.0: the same plugins, the same wrk load, alternated.

Usage: ``python3 benchmarks/bench.py [--quick] [--scenarios noop,svc] ...``; see
benchmarks/README.md. Every server runs on 127.0.0.1 in its own process group and is
stopped before the script ends, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_envs
import bench_profile
import bench_report
from bench_scenarios import (
    DEFAULT_FLAGS,
    RunSettings,
    VariantOutcome,
    build_scenarios,
    run_scenario,
)

ALL_SCENARIOS = ("noop", "svc", "cpu", "batch", "mlserver", "mlserver64")
# The bearer token of the svc.lite-token variant (a benchmark's, not a secret).
BENCH_TOKEN = "bench-token-0123456789abcdef"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per round")
    p.add_argument("--rounds", type=int, default=3, help="rounds per variant")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of load before")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--batch-connections", type=int, default=64)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument(
        "--scenarios",
        default=",".join(ALL_SCENARIOS),
        help=f"comma-separated, from {', '.join(ALL_SCENARIOS)}",
    )
    p.add_argument(
        "--server-flags",
        action="append",
        default=[],
        metavar="KEY=FLAGS",
        help="extra server flags for one variant, e.g. "
        "'batch.lite-batch=--max-batch-size 32' (replaces its defaults)",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round of 2 s, no warm-up")
    p.add_argument(
        "--profile",
        nargs="?",
        const="svc.lite",
        metavar="VARIANT",
        help="instead of the benchmark, profile one deepaas-lite variant "
        "under py-spy (default svc.lite)",
    )
    p.add_argument("--profile-top", type=int, default=25)
    p.add_argument("--skip-install", action="store_true", help="reuse the virtualenvs as they are")
    p.add_argument(
        "--lite-ref",
        metavar="REF",
        help="run deepaas-lite as committed at this git ref (e.g. HEAD) instead of "
        "the working tree, which other edits may leave half done",
    )
    p.add_argument(
        "--baseline",
        metavar="REF",
        help="also measure deepaas-lite at this git ref (noop.base, svc.base), "
        "alternated with the rest: before and after in the same run",
    )
    p.add_argument(
        "--mlserver-workers",
        type=int,
        default=0,
        help="MLServer's parallel_workers (0: inference in its server process; its "
        "default, 1, crashed with uvloop 0.23 here)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 2.0, 1, 0.0
    return args


def server_flags(overrides: list[str]) -> dict[str, list[str]]:
    flags = {key: shlex.split(value) for key, value in DEFAULT_FLAGS.items()}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--server-flags wants KEY=FLAGS, got {item!r}")
        flags[key.strip()] = shlex.split(value)
    return flags


def _wanted(args: argparse.Namespace) -> list[str]:
    return [name.strip() for name in args.scenarios.split(",") if name.strip()]


def settings(args: argparse.Namespace) -> RunSettings:
    bench_envs.WORK_DIR.mkdir(parents=True, exist_ok=True)
    wrk = bench_envs.ensure_wrk()
    # --profile takes a deepaas-lite variant only: MLServer is not run.
    wants_mlserver = not args.profile and any(n.startswith("mlserver") for n in _wanted(args))
    mlserver = None
    if args.skip_install:
        lite = bench_envs.Venv(bench_envs.WORK_DIR / "venv-lite")
        deepaas = bench_envs.Venv(bench_envs.WORK_DIR / "venv-deepaas")
        if wants_mlserver:
            mlserver = bench_envs.Venv(bench_envs.WORK_DIR / "venv-mlserver")
            bench_envs.save_mlserver_model(mlserver)
    else:
        lite, deepaas = bench_envs.lite_venv(), bench_envs.deepaas_venv()
        if wants_mlserver:
            mlserver = bench_envs.mlserver_venv()
    token_file = bench_envs.WORK_DIR / "tokens.txt"
    token_file.write_text(BENCH_TOKEN + "\n")
    return RunSettings(
        args.duration,
        args.warmup,
        args.rounds,
        wrk,
        args.wrk_threads,
        lite,
        deepaas,
        mlserver=mlserver,
        mlserver_workers=args.mlserver_workers,
        lite_source=_lite_source(args, lite),
        baseline_source=(
            str(bench_envs.source_at(args.baseline, lite.python)) if args.baseline else ""
        ),
        token=BENCH_TOKEN,
        token_file=str(token_file),
    )


def _banner(args: argparse.Namespace, s: RunSettings) -> list[str]:
    lite_v = bench_envs.installed_version(s.lite, "deepaas-lite")
    deepaas_v = bench_envs.installed_version(s.deepaas, "deepaas")
    aiohttp_v = bench_envs.installed_version(s.lite, "aiohttp")
    lines = [
        f"deepaas-lite {lite_v} ({_source(args.lite_ref)}) vs DEEPaaS {deepaas_v} "
        f"(ceiling: aiohttp {aiohttp_v})",
        f"{args.rounds} round(s) of {args.duration:g} s (+{args.warmup:g} s warm-up), "
        f"wrk -t{args.wrk_threads}, {args.connections} connections "
        f"({args.batch_connections} for batch and mlserver64); medians of rounds, error totals",
    ]
    if args.baseline:
        lines.append(f"baseline (noop.base, svc.base): deepaas-lite at {_source(args.baseline)}")
    if s.mlserver is not None:
        versions = ", ".join(
            f"{dist} {bench_envs.installed_version(s.mlserver, dist)}"
            for dist in ("mlserver", "mlserver-sklearn", "scikit-learn", "uvloop")
        )
        lines.append(f"MLServer: {versions}; parallel_workers {s.mlserver_workers}")
    return lines


def _lite_source(args: argparse.Namespace, lite: bench_envs.Venv) -> str:
    """The deepaas-lite tree the lite servers run: ``--lite-ref``'s, else the working
    tree's. Without ``--skip-install`` the working tree is installed into venv-lite;
    with it, venv-lite keeps whatever an earlier run installed, so the working tree
    goes first on the path (else a run would measure a stale copy under this tree's
    name)."""
    if args.lite_ref:
        return str(bench_envs.source_at(args.lite_ref, lite.python))
    if args.skip_install:
        return str(bench_envs.compiled(bench_envs.REPO_ROOT, lite.python))
    return ""


def _source(ref: str | None) -> str:
    """``commit abc1234`` for a ref, else the working tree's commit and state."""
    git = ["git", "-C", str(bench_envs.REPO_ROOT)]
    if ref:
        commit = subprocess.run([*git, "rev-parse", "--short", ref], capture_output=True, text=True)
        return f"commit {commit.stdout.strip()}"
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return f"working tree at {head.stdout.strip()}" + (
        " with edits" if dirty.stdout.strip() else ""
    )


def run_benchmark(args: argparse.Namespace, s: RunSettings) -> dict[str, VariantOutcome]:
    scenarios = build_scenarios(args.connections, args.batch_connections, bool(args.baseline))
    flags = server_flags(args.server_flags)
    wanted = _wanted(args)
    unknown = [name for name in wanted if name not in scenarios]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    outcomes: dict[str, VariantOutcome] = {}
    lines = _banner(args, s)
    for name in wanted:
        results = run_scenario(scenarios[name], flags, s)
        outcomes.update((o.variant.key, o) for o in results)
        lines += ["", f"== {name}: {scenarios[name].description}"]
        lines += bench_report.table(results)
    lines += ["", "== ratios", *bench_report.ratios(outcomes)]
    lines += bench_report.background(outcomes)
    lines += ["", "== targets", *bench_report.targets(outcomes)]
    _publish(lines, outcomes)
    return outcomes


def _publish(lines: list[str], outcomes: dict[str, VariantOutcome]) -> None:
    """Print the report, and keep it and the raw figures under .work/."""
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = bench_envs.WORK_DIR / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"report-{stamp}.txt").write_text(text)
    raw = {key: {**asdict(o), "summary": _summary(o)} for key, o in outcomes.items()}
    (results / f"raw-{stamp}.json").write_text(json.dumps(raw, indent=1, default=str))


def _summary(o: VariantOutcome) -> dict[str, float] | None:
    if not o.ok:
        return None
    names = ("rps", "p50_ms", "p99_ms", "errors", "rss_idle_mib", "startup_s", "ready_s")
    return {name: getattr(o, name) for name in names}


def run_profile(args: argparse.Namespace, s: RunSettings) -> None:
    scenarios = build_scenarios(args.connections, args.batch_connections)
    variants = {v.key: v for sc in scenarios.values() for v in sc.variants}
    variant = variants.get(args.profile)
    if variant is None or variant.kind != "lite":
        lite_keys = ", ".join(k for k, v in variants.items() if v.kind == "lite")
        raise SystemExit(f"--profile wants a deepaas-lite variant: {lite_keys}")
    flags = server_flags(args.server_flags).get(variant.key, [])
    print("\n".join(bench_profile.profile(variant, flags, s, args.profile_top)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = settings(args)
    if args.profile:
        run_profile(args, s)
    else:
        run_benchmark(args, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
