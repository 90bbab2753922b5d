"""One bounded wrk run against 127.0.0.1, read back from post.lua's BENCH_JSON line."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).resolve().parent / "post.lua"
REQUEST_TIMEOUT_S = 10


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


class LoadFailed(Exception):
    """wrk failed or printed no result."""


def _parse(stdout: str) -> LoadResult:
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line.removeprefix("BENCH_JSON "))
            socket_errors = sum(raw[k] for k in ("connect", "read", "write", "timeout"))
            return LoadResult(
                requests=raw["requests"],
                duration_s=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1e3,
                p99_ms=raw["p99_us"] / 1e3,
                non2xx=raw["non2xx"],
                socket_errors=socket_errors,
            )
    raise LoadFailed(f"no BENCH_JSON line in wrk output: {stdout[-300:]!r}")


def run_wrk(
    wrk: str,
    url: str,
    *,
    connections: int,
    duration_s: float,
    threads: int,
    body: str = "",
    token: str = "",
) -> LoadResult:
    """Load ``url`` (always on 127.0.0.1) with POSTs for ``duration_s`` seconds; a JSON
    ``body`` and a bearer ``token`` when given."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"refusing to load anything but 127.0.0.1: {url}")
    cmd = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={REQUEST_TIMEOUT_S}s",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=duration_s + REQUEST_TIMEOUT_S + 30,
            check=False,
            env={**os.environ, "BENCH_BODY": body, "BENCH_TOKEN": token},
        )
    except subprocess.TimeoutExpired as exc:
        raise LoadFailed("wrk did not finish in time") from exc
    if done.returncode != 0:
        raise LoadFailed(f"wrk exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return _parse(done.stdout)
