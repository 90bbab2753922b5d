"""Predictions from Ray actors, through a real ``deepaas-run`` on a two-node cluster."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.server import Server
from tests.ray.cluster import Cluster
from tests.ray.conftest import multipart, ray_args, wait_for

ARGS = [
    "--model-name",
    "worker-fragile",
    "--predict-executor",
    "ray",
    "--predict-workers",
    "2",
    "--ray-predict-resources",
    '{"num_cpus": 0.25}',
]


def predict(server: Server, action: str = "pid") -> tuple[int, Any]:
    return server.json("POST", f"/v2/models/worker-fragile/predict/?action={action}")


def actor_pids(server: Server, calls: int = 6) -> set[int]:
    answers = [predict(server) for _ in range(calls)]
    assert all(status == 200 for status, _ in answers), answers
    return {body["predictions"]["pid"] for _, body in answers}


def node_of(cluster: Cluster, pid: int) -> str | None:
    return next((node.ip for node in cluster.nodes if pid in node.processes()), None)


def test_actors_are_spread_over_the_nodes_and_warmed_once(
    ray_cluster: Cluster, ray_server: Any
) -> None:
    server = ray_server(ray_args(ray_cluster, *ARGS))
    answers = [predict(server)[1]["predictions"] for _ in range(10)]
    pids = {answer["pid"] for answer in answers}
    assert len(pids) == 2
    # Each actor was warmed once, before serving: one warm time per actor.
    assert len({(answer["pid"], answer["warmed_at"]) for answer in answers}) == 2
    assert all(answer["warmed_at"] is not None for answer in answers)
    assert {node_of(ray_cluster, pid) for pid in pids} == {"127.0.0.2", "127.0.0.3"}
    assert "worker-fragile (2 Ray actors)" in server.output()


def test_plugin_errors_keep_their_status(ray_cluster: Cluster, ray_server: Any) -> None:
    server = ray_server(ray_args(ray_cluster, *ARGS))
    status, body = predict(server, "http")
    assert (status, body["code"], body["message"]) == (402, 402, "Pay first")
    status, body = predict(server, "value")
    assert (status, body["message"]) == (500, "the worker says no")


def test_a_dead_actor_fails_its_call_and_is_replaced(ray_cluster: Cluster, ray_server: Any) -> None:
    server = ray_server(ray_args(ray_cluster, *ARGS))

    def two_actors() -> set[int] | None:
        pids = actor_pids(server, 4)
        return pids if len(pids) == 2 else None

    # Both actors seen answering first (in one CI run, six calls all reached the same one,
    # and the test mistook the other for the dead one's successor).
    before = wait_for(two_actors, what="two actors serving")
    assert isinstance(before, set)
    status, body = predict(server, "kill")
    assert status == 500
    assert body["code"] == 500
    assert "died while predicting" in body["message"]
    after = wait_for(two_actors, what="two actors serving again")
    assert isinstance(after, set)
    assert len(after - before) == 1  # the dead one's successor, warmed again
    assert server.json("GET", "/v2/health/ready")[0] == 200


def test_two_servers_share_the_cluster_each_with_its_own_state(
    ray_cluster: Cluster, ray_server: Any
) -> None:
    args = ray_args(
        ray_cluster,
        *ARGS,
        *("--model-name", "echo", "--train-executor", "ray"),
        *("--ray-train-resources", '{"num_cpus": 0.5}'),
    )
    first = ray_server(args, name="first")
    second = ray_server(args, name="second")
    assert actor_pids(first).isdisjoint(actor_pids(second))

    status, record = first.json("POST", "/v2/models/echo/train/?epochs=2")
    assert status == 200

    def done() -> bool:
        return first.json("GET", f"/v2/models/echo/train/{record['uuid']}")[1]["status"] == "done"

    wait_for(done, what="the training to end")
    assert second.json("GET", "/v2/models/echo/train/") == (200, [])
    assert second.json("GET", f"/v2/models/echo/train/{record['uuid']}")[0] == 404


def test_a_file_argument_reaches_the_actor(ray_cluster: Cluster, ray_server: Any) -> None:
    server = ray_server(
        ray_args(ray_cluster, "--model-name", "echo", "--predict-executor", "ray"),
        name="files",
    )
    body, headers = multipart(
        {"data": "1.5"}, {"upload": ("note.txt", "text/plain", "hello from the server")}
    )
    status, _, answer = server.request(
        "POST", "/v2/models/echo/predict/", body=body, headers=headers
    )
    assert status == 200, answer
    upload = json.loads(answer)["predictions"]["upload"]
    assert upload["content"] == "hello from the server"
    assert upload["exists"] is True
    assert upload["original_filename"] == "note.txt"
