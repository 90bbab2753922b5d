"""What the Ray executors do when the cluster fails: at startup, a node, the head."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.server import Server, deepaas_run, free_port
from tests.ray.cluster import ENV, Cluster
from tests.ray.conftest import ray_args, wait_for


def test_a_cluster_that_cannot_be_reached_stops_the_start(tmp_path: Path) -> None:
    address = f"127.0.0.2:{free_port()}"
    done = subprocess.run(
        [
            deepaas_run(),
            *("--listen-port", str(free_port()), "--state-dir", str(tmp_path / "state")),
            *("--model-name", "train-sleeper", "--train-executor", "ray"),
            *("--ray-address", address),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"deepaas-run: cannot reach the Ray cluster at {address}: ")


def test_a_lost_node_ends_its_training_in_error(
    ray_cluster: Cluster, ray_server: Any, tmp_path: Path
) -> None:
    doomed = ray_cluster.start_node(1, {"doomed": 1})
    server = ray_server(
        ray_args(
            ray_cluster,
            *("--model-name", "train-sleeper", "--train-executor", "ray"),
            *("--ray-train-resources", '{"num_cpus": 0.5, "doomed": 1}'),
        )
    )
    pidfile = tmp_path / "pid"
    status, started = server.json(
        "POST", f"/v2/models/train-sleeper/train/?sleep=300&tag=lost&pidfile={pidfile}"
    )
    assert status == 200
    wait_for(pidfile.exists, what="the training to start")
    assert int(pidfile.read_text()) in doomed.processes()

    doomed.kill()

    def failed() -> dict[str, Any] | None:
        body = server.json("GET", f"/v2/models/train-sleeper/train/{started['uuid']}")[1]
        return body if body["status"] == "error" else None

    body = wait_for(failed, what="the training to end in error")
    assert isinstance(body, dict)
    # Killing the node's processes kills the worker too: Ray reports whichever death it
    # sees first, the node's or the worker's (both seen on a loaded machine).
    assert body["message"].startswith(
        (
            "Training lost: the Ray node running the training died",
            "Training lost: the Ray worker process running the training died",
        )
    ), body["message"]
    status, _, text = server.request("GET", f"/v2/models/train-sleeper/train/{started['uuid']}/log")
    assert b"training lost to stdout" in text
    wait_for(doomed.gone, what="the lost node's processes to end")


def ready(server: Server) -> tuple[int, Any]:
    return server.json("GET", "/v2/health/ready")


def not_ready(server: Server) -> dict[str, Any] | None:
    status, body = ready(server)
    return body if status == 503 else None


def test_readiness_follows_the_cluster(ray_cluster: Cluster, ray_server: Any) -> None:
    server = ray_server(
        ray_args(ray_cluster, "--model-name", "train-sleeper", "--train-executor", "ray")
    )
    assert ready(server)[0] == 200
    (gcs,) = [pid for pid in ray_cluster.head.processes() if _name(pid) == "gcs_server"]
    os.kill(gcs, signal.SIGSTOP)  # the head stops answering, as behind a broken network
    try:
        body = wait_for(lambda: not_ready(server), what="not ready")
        assert isinstance(body, dict)
        assert body["ready"] is False
        assert "has not answered" in body["message"]
    finally:
        os.kill(gcs, signal.SIGCONT)
    wait_for(lambda: ready(server)[0] == 200, what="ready again")


def _name(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()
