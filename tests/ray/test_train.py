"""Trainings as Ray tasks on the second node, through a real ``deepaas-run``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server
from tests.ray.cluster import Cluster
from tests.ray.conftest import multipart, ray_args, wait_for

MODELS = ("train-sleeper", "train-progress", "train-raiser", "train-files")
ARGS = [
    *(arg for model in MODELS for arg in ("--model-name", model)),
    *("--train-executor", "ray", "--train-workers", "2"),
    # "node2": only the second node has it, so every training runs there.
    *("--ray-train-resources", '{"num_cpus": 0.5, "node2": 1}'),
]


@pytest.fixture
def server(ray_cluster: Cluster, ray_server: Any) -> Server:
    started: Server = ray_server(ray_args(ray_cluster, *ARGS))
    return started


def record(server: Server, model: str, training: str) -> dict[str, Any]:
    status, body = server.json("GET", f"/v2/models/{model}/train/{training}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def ended(server: Server, model: str, training: str) -> dict[str, Any]:
    def end() -> dict[str, Any] | None:
        body = record(server, model, training)
        return None if body["status"] in ("pending", "running") else body

    found = wait_for(end, what=f"training {training} to end")
    assert isinstance(found, dict)
    return found


def log(server: Server, model: str, training: str) -> str:
    status, _, body = server.request("GET", f"/v2/models/{model}/train/{training}/log")
    assert status == 200
    return body.decode()


def pid_in(pidfile: Path) -> int:
    wait_for(pidfile.exists, what=f"{pidfile} to be written")
    return int(pidfile.read_text().split()[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


def node_of(cluster: Cluster, pid: int) -> str | None:
    return next((node.ip for node in cluster.nodes if pid in node.processes()), None)


def test_a_training_runs_on_the_cluster_with_its_log_and_result(
    ray_cluster: Cluster, server: Server, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    status, started = server.json(
        "POST", f"/v2/models/train-sleeper/train/?sleep=2&tag=far&pidfile={pidfile}"
    )
    assert status == 200
    assert node_of(ray_cluster, pid_in(pidfile)) == "127.0.0.3"
    done = ended(server, "train-sleeper", started["uuid"])
    assert done["status"] == "done"
    assert done["result"]["output"]["tag"] == "far"
    text = log(server, "train-sleeper", started["uuid"])
    assert "training far to stdout" in text
    assert "training far to stderr" in text


def test_progress_reaches_the_record(server: Server, tmp_path: Path) -> None:
    release = tmp_path / "release"
    status, started = server.json("POST", f"/v2/models/train-progress/train/?release={release}")
    assert status == 200

    def halfway() -> bool:
        body = record(server, "train-progress", started["uuid"])
        return body.get("progress") == {"fraction": 0.5, "message": "halfway"}

    wait_for(halfway, what="progress on the record")
    assert record(server, "train-progress", started["uuid"])["status"] == "running"
    release.touch()
    done = ended(server, "train-progress", started["uuid"])
    assert (done["status"], done["result"]["output"]) == ("done", "finished")
    assert done["progress"]["fraction"] == 1.0


def test_an_exception_ends_in_error_with_its_message(server: Server) -> None:
    status, started = server.json("POST", "/v2/models/train-raiser/train/?tag=x")
    assert status == 200
    failed = ended(server, "train-raiser", started["uuid"])
    assert (failed["status"], failed["message"]) == ("error", "learning rate too high x")
    assert "ValueError: learning rate too high x" in log(server, "train-raiser", started["uuid"])


def test_file_arguments_travel_with_the_training(server: Server) -> None:
    body, headers = multipart({}, {"data": ("numbers.csv", "text/csv", "1,2,3")})
    status, _, answer = server.request(
        "POST", "/v2/models/train-files/train/", body=body, headers=headers
    )
    assert status == 200, answer
    training = __import__("json").loads(answer)["uuid"]
    done = ended(server, "train-files", training)
    assert done["status"] == "done", done
    (received,) = done["result"]["output"]["files"]
    assert received["content"] == "1,2,3"
    assert received["original_filename"] == "numbers.csv"
    # A copy made where the training ran, not the server's own.
    assert "inputs" not in Path(received["path"]).parts


def test_cancel_stops_the_task_and_keeps_the_record(
    ray_cluster: Cluster, server: Server, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    status, started = server.json(
        "POST", f"/v2/models/train-sleeper/train/?sleep=300&tag=long&pidfile={pidfile}"
    )
    assert status == 200
    pid = pid_in(pidfile)
    assert alive(pid)
    wait_for(lambda: "training long to stdout" in log(server, "train-sleeper", started["uuid"]))

    status, cancelled = server.json("DELETE", f"/v2/models/train-sleeper/train/{started['uuid']}")
    assert (status, cancelled["status"]) == (200, "cancelled")
    wait_for(lambda: not alive(pid), what="the training's worker process to end")
    assert record(server, "train-sleeper", started["uuid"])["status"] == "cancelled"

    # Killed, its process could not remove its scratch directory: the next one does.
    left = f"deepaas-training-{pid}-*"
    assert list(Path(tempfile.gettempdir()).glob(left))
    status, following = server.json("POST", "/v2/models/train-sleeper/train/?sleep=0&tag=next")
    assert status == 200
    assert ended(server, "train-sleeper", following["uuid"])["status"] == "done"
    assert not list(Path(tempfile.gettempdir()).glob(left))


def test_a_model_without_predict_takes_no_actor(ray_cluster: Cluster, ray_server: Any) -> None:
    # An actor for train-sleeper would hold every "node2" unit: the training could not run.
    started: Server = ray_server(
        ray_args(
            ray_cluster,
            *("--model-name", "train-sleeper", "--train-executor", "ray"),
            *("--predict-executor", "ray", "--ray-predict-resources", '{"node2": 1000}'),
            *("--ray-train-resources", '{"num_cpus": 0.5, "node2": 1}'),
        ),
        name="train-only",
    )
    status, body = started.json("POST", "/v2/models/train-sleeper/train/?tag=alone")
    assert status == 200
    assert ended(started, "train-sleeper", body["uuid"])["status"] == "done"
