"""``--profile``: py-spy samples deepaas-lite's server while wrk loads it.

py-spy attaches to the running server (and its subprocesses) for the load window and
writes collapsed stacks (``--format raw``) of the thread holding the GIL (``--gil``:
a thread waiting for it, or idle, is not sampled; the samples against the window say
how much of it the process held the GIL); this module prints the functions that hold
the most samples, by self time and by inclusive time.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from bench_envs import WORK_DIR
from bench_procs import Server, free_port, running
from bench_scenarios import (
    LITE_HEALTH_PATH,
    RunSettings,
    Variant,
    check_one,
    load,
    server_command,
    server_env,
)

SAMPLE_RATE_HZ = 200


def _record(server: Server, s: RunSettings, out: Path, seconds: int) -> subprocess.Popen[bytes]:
    cmd = [
        str(s.lite.script("py-spy")),
        "record",
        "--pid",
        str(server.process.pid),
        "--duration",
        str(seconds),
        "--rate",
        str(SAMPLE_RATE_HZ),
        "--subprocesses",
        "--nonblocking",
        "--gil",
        "--format",
        "raw",
        "--output",
        str(out),
    ]
    with out.with_suffix(".log").open("wb") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def _frame_name(frame: str) -> str:
    """``"f (aiohttp/web_protocol.py:512)"`` -> ``"f (aiohttp/web_protocol.py)"``."""
    if frame.startswith("process "):
        return frame.split(":", 1)[0]
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    return f"{name} ({path})" if path else name


def _package(name: str) -> str:
    """``"f (aiohttp/web_app.py)"`` -> ``"aiohttp"``; the stdlib keeps its module."""
    path = name.rpartition(" (")[2].rstrip(")")
    if not path or path == name:
        return name
    return path.split("/")[0].removesuffix(".py")


def _by_package(own: Counter[str]) -> list[tuple[str, int]]:
    totals: Counter[str] = Counter()
    for name, count in own.items():
        totals[_package(name)] += count
    return totals.most_common(12)


def summarise(raw: Path, top: int) -> list[str]:
    """Top functions by self and inclusive samples from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return [f"no samples in {raw}"]
    lines = [f"{total} samples; top {top} by self time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append("self time by package:")
    by_package = _by_package(own)
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in by_package]
    lines.append(f"top {top} by inclusive time:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return lines


def profile(variant: Variant, flags: list[str], s: RunSettings, top: int) -> list[str]:
    """Load ``variant`` once under py-spy; the report lines."""
    out = WORK_DIR / "profile" / f"{variant.key}.raw.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = max(2, round(s.duration_s))
    cmd = server_command(variant, flags, port := free_port(), s)
    log = WORK_DIR / "logs" / f"{variant.key}.profile.log"
    with running(cmd, port, log, LITE_HEALTH_PATH, env=server_env(variant, s)) as server:
        check_one(server, variant, s)
        recorder = _record(server, s, out, seconds)
        try:
            result = load(server, variant, s, seconds)
            recorder.wait(timeout=seconds + 60)
        finally:
            if recorder.poll() is None:
                recorder.kill()
                recorder.wait()
    head = [
        f"profile of {variant.key} ({' '.join(flags) or 'default options'}), raw stacks in {out}",
        f"under py-spy: {result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms; "
        f"{SAMPLE_RATE_HZ * seconds} samples would be the GIL held all the time",
    ]
    if not out.exists():
        return [*head, f"py-spy wrote nothing; see {out.with_suffix('.log')}"]
    return head + summarise(out, top)
