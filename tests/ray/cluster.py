"""A real Ray cluster on loopback for the tests: ``ray start`` nodes, each killable.

Every node gets a loopback address of its own (127.0.0.2, 127.0.0.3, ...: Ray turns
127.0.0.1 into the machine's outside address) and a short temporary directory (Ray's
socket paths have a length limit). Each ``ray start`` leads a process group of its
own, holding the node's raylet (and, on the head, the GCS); the node's worker
processes are the raylet's children. So a node is stopped without ``ray stop``,
which would stop every Ray process of the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.server import installed

# No token authentication: a token left in ~/.ray by some other Ray must not matter.
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def ray_command() -> str:
    return installed("ray")


@dataclass
class Node:
    ip: str
    pgid: int
    temp_dir: Path
    pids: set[int] = field(default_factory=set)  # every process of it ever seen

    def processes(self) -> set[int]:
        """The node's live processes: its group, and the children of its raylet."""
        group = _pids_where(lambda pid, ppid, pgid: pgid == self.pgid)
        children = _pids_where(lambda pid, ppid, pgid: ppid in group)
        found = group | children
        self.pids |= found
        return found

    def kill(self) -> None:
        """SIGKILL the node's processes, as a machine that went away."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def gone(self) -> bool:
        return not any(_alive(pid) for pid in self.pids)


@dataclass
class Cluster:
    port: int
    root: Path
    nodes: list[Node] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.2:{self.port}"

    @property
    def head(self) -> Node:
        return self.nodes[0]

    def start_node(self, num_cpus: float, resources: dict[str, float] | None = None) -> Node:
        """Start the head (the first call) or one more node; return once it has joined."""
        ip = f"127.0.0.{len(self.nodes) + 2}"
        temp_dir = self.root / str(len(self.nodes))
        args = [
            ray_command(),
            "start",
            f"--node-ip-address={ip}",
            f"--num-cpus={num_cpus}",
            f"--temp-dir={temp_dir}",
            "--disable-usage-stats",
        ]
        if self.nodes:
            args.append(f"--address={self.address}")
        else:
            args += ["--head", f"--port={self.port}", "--include-dashboard=false"]
        if resources:
            args.append(f"--resources={json.dumps(resources)}")
        starter = subprocess.Popen(
            args,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        node = Node(ip, starter.pid, temp_dir)
        self.nodes.append(node)  # stopped at the end even when it failed to start
        output, _ = starter.communicate(timeout=120)
        node.processes()
        assert starter.returncode == 0, output.decode(errors="replace")
        return node

    def stop(self) -> None:
        """Kill every node, newest first; wait until all their processes are gone."""
        for node in reversed(self.nodes):
            node.kill()
        deadline = time.monotonic() + 30
        while not all(node.gone() for node in self.nodes) and time.monotonic() < deadline:
            for node in self.nodes:
                node.kill()  # workers that were starting as their raylet died
            time.sleep(0.2)
        left = [pid for node in self.nodes for pid in node.pids if _alive(pid)]
        shutil.rmtree(self.root, ignore_errors=True)
        assert not left, f"Ray processes left behind: {left}"


def new_cluster(port: int) -> Cluster:
    root = Path(tempfile.mkdtemp(prefix="dlray-", dir="/tmp"))
    return Cluster(port, root)


def _pids_where(predicate: object) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid, pgid = int(entry.name), int(fields[1]), int(fields[2])
        if fields[0] != "Z" and predicate(pid, ppid, pgid):  # type: ignore[operator]
            found.add(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"
