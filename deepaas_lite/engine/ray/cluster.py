"""The Ray cluster of this server: connected once at startup, then watched.

``connect`` fails at once, with one clear message, when the cluster does not answer
(Ray itself would keep trying for minutes). A thread then asks the cluster for its
nodes every second; ``problem()`` says what is wrong while the last answer is too old
or no node is alive, and ``/v2/health/ready`` answers 503 with it until the cluster
answers again.

This module imports Ray only when it connects: the web layer may import it freely.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepaas_lite.config import RayOptions
from deepaas_lite.exceptions import ExecutorUnavailable
from deepaas_lite.model import plugin_files, store

LOG = logging.getLogger(__name__)

PROBE_INTERVAL = 1.0
STALE_AFTER = 5.0
CONNECT_TIMEOUT = 5.0
# Ray ends a driver whose cluster has not answered for a minute; this server stays up
# instead, answering 503 until the cluster is back (RAY_gcs_rpc_server_reconnect_timeout_s
# in the environment still decides).
RECONNECT_TIMEOUT_S = 10 * 365 * 24 * 3600

# What a task or an actor asks of Ray as keyword arguments; other keys are custom
# resources (``resources={...}``).
_RAY_KEYWORDS = ("num_cpus", "num_gpus", "memory")


def parse_resources(text: str | None, option: str) -> dict[str, float] | None:
    """A JSON object of resource amounts, e.g. ``{"num_cpus": 2, "num_gpus": 1}``."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ExecutorUnavailable(f"--{option} is not JSON: {exc}") from None
    return check_resources(value, f"--{option}")


def check_resources(value: Any, source: str) -> dict[str, float]:
    if not isinstance(value, dict) or not all(
        isinstance(key, str)
        and isinstance(amount, int | float)
        and not isinstance(amount, bool)
        and amount >= 0
        for key, amount in value.items()
    ):
        raise ExecutorUnavailable(
            f"{source} must be an object of resource names and amounts, "
            f'e.g. {{"num_cpus": 2, "num_gpus": 1}}; got {value!r}'
        )
    return {key: float(amount) for key, amount in value.items()}


def ray_options(resources: Mapping[str, float]) -> dict[str, Any]:
    """``resources`` as keyword arguments of Ray's ``.options()``."""
    options: dict[str, Any] = {}
    custom: dict[str, float] = {}
    for key, amount in resources.items():
        if key in _RAY_KEYWORDS:
            options[key] = int(amount) if key == "memory" else amount
        else:
            custom[key] = amount
    if custom:
        options["resources"] = custom
    return options


@dataclass(frozen=True)
class _Probe:
    """The last answer of the cluster."""

    at: float
    alive: int
    error: str | None = None


class Cluster:
    """The connected cluster and what this server asks of it."""

    def __init__(self, address: str, options: RayOptions) -> None:
        self.address = address
        self.train_resources = parse_resources(options.train_resources, "ray-train-resources")
        self.predict_resources = (
            parse_resources(options.predict_resources, "ray-predict-resources") or {}
        )
        self._last = _Probe(at=time.monotonic(), alive=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="deepaas-ray-watch", daemon=True)

    @property
    def problem(self) -> str | None:
        """Why the cluster cannot serve now; ``None`` when it answers."""
        last = self._last
        age = time.monotonic() - last.at
        if age > STALE_AFTER:
            detail = f" ({last.error})" if last.error else ""
            return f"the Ray cluster at {self.address} has not answered for {age:.0f} s{detail}"
        if last.alive == 0:
            return f"the Ray cluster at {self.address} has no live node"
        return None

    def start_watching(self) -> None:
        self._thread.start()

    def stop_watching(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        import ray

        while not self._stop.wait(PROBE_INTERVAL):
            try:
                nodes = ray.nodes()  # type: ignore[no-untyped-call]
                alive = len([node for node in nodes if node.get("Alive")])
            except Exception as exc:  # keeps the time of the last answer
                self._last = _Probe(self._last.at, self._last.alive, f"{type(exc).__name__}: {exc}")
                continue
            if alive == 0 and self._last.alive:
                LOG.error("The Ray cluster at %s has no live node", self.address)
            self._last = _Probe(time.monotonic(), alive)


_current: Cluster | None = None


def connect(options: RayOptions) -> Cluster:
    """Connect this process to the cluster (once); ``ExecutorUnavailable`` when it cannot."""
    global _current
    if _current is not None:
        return _current
    address = options.address or None
    if address is not None and address != "auto":
        _check_reachable(address)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", str(RECONNECT_TIMEOUT_S))
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailable(
            "Ray is not installed: pip install '<deepaas-lite's source tree>[ray]' (or ray) "
            "to use the Ray executors"
        ) from None
    cluster = Cluster(address or "(started by this server)", options)
    try:
        ray.init(
            address=address,
            namespace=options.namespace or None,
            _node_ip_address=options.node_ip_address or None,
            log_to_driver=False,
            include_dashboard=False if address is None else None,
            runtime_env={"env_vars": _exported_env()},
        )
    except Exception as exc:
        raise ExecutorUnavailable(
            f"cannot connect to the Ray cluster at {address}: {exc}"
        ) from None
    LOG.info("Connected to the Ray cluster at %s", cluster.address)
    cluster.start_watching()
    _current = cluster
    return cluster


def _exported_env() -> dict[str, str]:
    """What the server tells the processes it starts, told to its tasks and actors too:
    the plugin files it serves and where the model store is."""
    names = (plugin_files.ENV, store.ENV)
    return {name: os.environ[name] for name in names if name in os.environ}


def current() -> Cluster:
    """The connected cluster; ``connect`` must have been called."""
    if _current is None:
        raise RuntimeError("not connected to a Ray cluster")
    return _current


def problem() -> str | None:
    """Why the cluster cannot serve now; ``None`` when it answers or is not used."""
    return None if _current is None else _current.problem


def disconnect() -> None:
    global _current
    cluster, _current = _current, None
    if cluster is not None:
        cluster.stop_watching()
        import ray

        ray.shutdown()


def _check_reachable(address: str) -> None:
    """Open a TCP connection to the cluster's address, or raise ``ExecutorUnavailable``."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ExecutorUnavailable(
            f"--ray-address must be HOST:PORT (the head node's address) or auto; got {address!r}"
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ExecutorUnavailable(f"cannot reach the Ray cluster at {address}: {exc}") from None
