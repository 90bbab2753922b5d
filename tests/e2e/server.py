"""A real ``deepaas-run`` in a child process, on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

# For a ``deepaas-run`` expected to stop before serving: the kernel picks the port, so a
# busy 5000 (another tox environment, a server of the user's) never decides the outcome.
PORT_0 = ("--listen-port", "0")


# Ports for the servers tests start: below the kernel's ephemeral range (32768-60999 by
# default), where it never assigns one itself (to a connection's local end, to a bind to
# port 0). A port handed out by the kernel, taken again by another tox environment
# between ``free_port`` and deepaas-run's bind, once had a test talk to a stranger.
_PORTS = range(20000, 32768)


def free_port() -> int:
    """A loopback port nothing is bound to now, picked at random from ``_PORTS``."""
    for _ in range(200):
        port = random.choice(_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {_PORTS}")


def installed(script: str) -> str:
    """The path of the console ``script`` installed next to this Python."""
    found = shutil.which(script, path=str(Path(sys.executable).parent))
    assert found, f"{script} is not installed next to this Python"
    return found


def deepaas_run() -> str:
    return installed("deepaas-run")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(
            self.url + path, data=body, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = self.request(method, path, **kwargs)
        return status, json.loads(body)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first match of the regular expression ``pattern`` in the server's log,
        once it has been written (the log is written by a thread, in batches)."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, log := self.output())) is None:
            assert time.monotonic() < deadline, f"{pattern!r} not in the log:\n{log[-3000:]}"
            time.sleep(0.05)
        return found


def _listens(server: Server) -> bool:
    """Whether the server's process, or one of its children, listens on its port: only
    then is an answer on that port its own."""
    port = int(server.url.rsplit(":", 1)[1])
    try:
        root = psutil.Process(server.process.pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for process in processes:
        try:
            sockets = process.net_connections("tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if any(s.status == psutil.CONN_LISTEN and s.laddr.port == port for s in sockets):
            return True
    return False


def wait_ready(server: Server, timeout: float = 60.0, path: str = "/v2/models/") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"deepaas-run exited early:\n{server.output()}")
        try:
            status, _, _ = server.request("GET", path)
            if status == 200 and _listens(server):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"deepaas-run did not answer in {timeout}s:\n{server.output()}")


def start(
    args: list[str],
    log: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    wrapper: Sequence[str] = (),
) -> Server:
    """``deepaas-run`` with ``args``; ``wrapper`` is a command that execs it (``prlimit
    --nofile=...``): the process is the server's all the same."""
    port = port or free_port()
    full_env = {**os.environ, **(env or {})}
    out = open(log, "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [*wrapper, deepaas_run(), "--listen-ip", "127.0.0.1", "--listen-port", str(port), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=full_env,
        start_new_session=True,
    )
    out.close()
    server = Server(process, f"http://127.0.0.1:{port}", log)
    return server


def stop(server: Server, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
    """Stop the server; whatever is left of its process group is killed."""
    if server.process.poll() is None:
        server.process.send_signal(sig)
    try:
        code = server.process.wait(timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    return code


@contextlib.contextmanager
def running(
    args: list[str],
    log: Path,
    env: Mapping[str, str] | None = None,
    base_path: str = "",
    wrapper: Sequence[str] = (),
    ready: bool = True,
) -> Iterator[Server]:
    """A server answering and, with ``ready``, its models started (``/v2/health/ready``:
    their worker processes warmed), as a test that uses them expects."""
    server = start(args, log, env, wrapper=wrapper)
    try:
        wait_ready(server, path=base_path + ("/v2/health/ready" if ready else "/v2/models/"))
        yield server
    finally:
        stop(server)
