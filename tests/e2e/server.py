"""A real ``deepaas-run`` in a child process, on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
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

# For a ``deepaas-run`` expected to stop before serving: the kernel picks the port, so a
# busy 5000 (another tox environment, a server of the user's) never decides the outcome.
PORT_0 = ("--listen-port", "0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


def wait_ready(server: Server, timeout: float = 60.0, path: str = "/v2/models/") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"deepaas-run exited early:\n{server.output()}")
        try:
            status, _, _ = server.request("GET", path)
            if status == 200:
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
