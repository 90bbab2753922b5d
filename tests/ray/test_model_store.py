"""The model store on a real two-node Ray cluster: trainings run as Ray tasks and write
their version where the server reads it; two predict actors switch to a new version
without a restart and with no failed request while clients keep asking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.e2e.server import Server
from tests.e2e.test_model_store import MODEL, PLUGIN, Load, load_on, switch_under_load
from tests.ray.cluster import Cluster
from tests.ray.conftest import ray_args

__all__ = ["load_on"]  # the fixture, used here


def test_ray_actors_switch_to_a_new_version(
    ray_cluster: Cluster,
    ray_server: Callable[..., Server],
    tmp_path: Path,
    load_on: Callable[[Server], Load],
) -> None:
    args = ray_args(
        ray_cluster,
        "--predict-executor",
        "ray",
        "--train-executor",
        "ray",
        "--predict-workers",
        "2",
        "--plugin",
        f"{MODEL}={PLUGIN}",
    )
    server = ray_server(args)
    switch_under_load(server, tmp_path / "server-state", 2, load_on)
