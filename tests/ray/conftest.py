"""A real two-node Ray cluster on loopback, for the whole session, and servers on it.

The tests of this directory need the ``ray`` extra (``pip install deepaas-lite[ray]``):
tox's ``ray`` environment runs them, and a Ray that cannot be imported there fails the
run instead of skipping it; the other environments leave this directory out
(``--ignore=tests/ray`` in tox.ini).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import ray  # noqa: F401 - imported first: without the ray extra, collecting fails

from tests.e2e.server import Server, free_port, start, stop, wait_ready
from tests.ray.cluster import ENV, Cluster, new_cluster

# Logical CPUs of each node: Ray places by them, they need not exist.
NODE_CPUS = 2


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Cluster]:
    """A head node (127.0.0.2) and a second node (127.0.0.3, resource ``node2``)."""
    cluster = new_cluster(free_port())
    try:
        cluster.start_node(NODE_CPUS)
        cluster.start_node(NODE_CPUS, {"node2": 1000})
        yield cluster
    finally:
        cluster.stop()


def ray_args(cluster: Cluster, *more: str) -> list[str]:
    """``deepaas-run`` options joining ``cluster`` through its head node."""
    return ["--ray-address", cluster.address, "--ray-node-ip-address", "127.0.0.2", *more]


def wait_until_ready(server: Server, timeout: float = 120.0) -> None:
    wait_ready(server, timeout, path="/v2/health/ready")


@pytest.fixture
def ray_server(tmp_path: Path) -> Iterator[object]:
    """``ray_server(args)`` starts a ``deepaas-run``; all are stopped at the end."""
    started: list[Server] = []

    def make(args: list[str], name: str = "server", ready: bool = True) -> Server:
        state = tmp_path / f"{name}-state"
        server = start(["--state-dir", str(state), *args], tmp_path / f"{name}.log", ENV)
        started.append(server)
        if ready:
            wait_until_ready(server)
        return server

    yield make
    for server in started:
        stop(server)


def wait_for(condition: object, timeout: float = 60.0, what: str = "a condition") -> object:
    """Poll ``condition()`` until it returns a true value; return that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def multipart(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, str, str]]
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body and its headers: ``fields`` as plain parts, ``files``
    as ``(filename, content type, content)`` parts."""
    boundary = uuid.uuid4().hex
    parts = [
        f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'
        for name, value in fields.items()
    ]
    parts += [
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n{content}"
        for name, (filename, content_type, content) in files.items()
    ]
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
    return body.encode(), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
