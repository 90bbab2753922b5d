"""Server processes: spawn in their own process group, wait for ready, measure, stop.

Only 127.0.0.1 is ever used. Memory is read from /proc (Linux), so the script's own
Python needs no third-party package.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
READY_PATH = "/v2/models/"
READY_TIMEOUT_S = 180.0
STOP_GRACE_S = 3.0
_REJECTED_FLAG_MARKERS = ("unrecognized arguments", "no such option")


class ServerFailed(Exception):
    """The server exited or never answered 200 on the readiness path."""

    def __init__(self, message: str, *, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass
class Server:
    """A running server: its process (group leader), port and startup time."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    startup_s: float = 0.0
    ready_s: float = 0.0

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def rss_mib(self) -> float:
        return tree_rss_bytes(self.process.pid) / (1024 * 1024)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces; fields after its ")" are fixed.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root``'s process tree (RSS summed over processes)."""
    return sum(_rss_bytes(pid) for pid in process_tree(root))


def _probe(port: int, path: str = READY_PATH) -> int | None:
    """The status of ``GET path``, or None when nothing answers yet."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2.0)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def _log_tail(path: Path, lines: int = 3) -> str:
    """The server's last error line, else its last lines."""
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    errors = [line.strip() for line in text if "error" in line.lower()]
    return errors[-1] if errors else " | ".join(line.strip() for line in text[-lines:])


def _wait_ready(server: Server, started: float, path: str) -> None:
    deadline = started + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            tail = _log_tail(server.log_path)
            unsupported = any(m in tail for m in _REJECTED_FLAG_MARKERS)
            raise ServerFailed(f"exited with {code}: {tail}", unsupported=unsupported)
        if _probe(server.port, path) == 200:
            server.startup_s = time.monotonic() - started
            return
        time.sleep(0.01)
    raise ServerFailed(f"no 200 on {path} within {READY_TIMEOUT_S:.0f} s")


def _wait_health(server: Server, started: float, path: str) -> None:
    """Time to the first 200 on ``path`` (a readiness endpoint: models warmed)."""
    deadline = started + READY_TIMEOUT_S
    while time.monotonic() < deadline and server.process.poll() is None:
        if _probe(server.port, path) == 200:
            server.ready_s = time.monotonic() - started
            return
        time.sleep(0.01)
    raise ServerFailed(f"no 200 on {path} within {READY_TIMEOUT_S:.0f} s")


def _spawn(cmd: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group and every descendant, SIGKILL what is left."""
    pids = process_tree(process.pid)
    _signal_all(process.pid, pids, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)
    _signal_all(process.pid, pids, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)


def _signal_all(pgid: int, pids: list[int], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
    for pid in pids:  # descendants that left the group (e.g. setsid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


@contextlib.contextmanager
def running(
    cmd: list[str],
    port: int,
    log_path: Path,
    health_path: str | None = None,
    *,
    ready_path: str = READY_PATH,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``cmd`` (which must listen on ``port``), yield it once ready, stop it.

    ``startup_s`` is the time to the first 200 on ``GET ready_path`` (``/v2/models/``);
    ``ready_s`` the time to the first 200 on ``health_path`` when given (else the
    same). ``env`` is added to this process's environment.
    """
    started = time.monotonic()
    process = _spawn(cmd, log_path, {**os.environ, **(env or {})})
    server = Server(process, port, log_path)
    try:
        _wait_ready(server, started, ready_path)
        server.ready_s = server.startup_s
        if health_path:
            _wait_health(server, started, health_path)
        yield server
    finally:
        stop(process)


_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICKS_PER_S


def tree_cpu_s(root: int) -> float:
    """CPU seconds used so far by the live processes of ``root``'s tree."""
    total = 0
    for pid in process_tree(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS_PER_S


def tree_switches(root: int) -> int:
    """Voluntary context switches so far of every thread of ``root``'s tree: each is a
    thread that blocked (the GIL, a lock, a queue, a poll) and had to be woken again."""
    total = 0
    for pid in process_tree(root):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                status = Path(f"/proc/{pid}/task/{task}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    return total
