"""The Ray package's plain helpers, and that nothing imports Ray unless it is chosen.

These need no cluster, nor Ray itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepaas_lite.engine.ray import cluster, files, scratch
from deepaas_lite.exceptions import ExecutorUnavailable
from deepaas_lite.model.uploads import UploadedFile


def test_resources_are_a_json_object_of_amounts() -> None:
    assert cluster.parse_resources('{"num_cpus": 2, "num_gpus": 1}', "x") == {
        "num_cpus": 2.0,
        "num_gpus": 1.0,
    }
    assert cluster.parse_resources(None, "x") is None
    assert cluster.parse_resources("  ", "x") is None


@pytest.mark.parametrize("text", ["[1]", '{"num_cpus": -1}', '{"num_cpus": "2"}', "{", "true"])
def test_bad_resources_are_a_clear_error(text: str) -> None:
    with pytest.raises(ExecutorUnavailable, match="--ray-train-resources"):
        cluster.parse_resources(text, "ray-train-resources")


def test_resources_become_ray_options() -> None:
    options = cluster.ray_options({"num_cpus": 0.5, "num_gpus": 1, "memory": 2e9, "disk": 1})
    assert options == {
        "num_cpus": 0.5,
        "num_gpus": 1,
        "memory": 2_000_000_000,
        "resources": {"disk": 1},
    }


@pytest.mark.parametrize("address", ["somewhere", "host:port", "ray://x"])
def test_an_address_that_is_not_host_port_is_refused(address: str) -> None:
    with pytest.raises(ExecutorUnavailable, match="must be HOST:PORT"):
        cluster._check_reachable(address)


def test_no_problem_reported_when_ray_is_not_used() -> None:
    assert cluster.problem() is None


def test_scratch_directories_of_ended_processes_are_swept(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])  # a process that has ended: its pid
    gone.wait()
    left = tmp_path / f"deepaas-training-{gone.pid}-abc123"
    (left / "inputs").mkdir(parents=True)
    (left / "inputs" / "data.csv").write_text("1,2")
    ours = tmp_path / f"deepaas-training-{os.getpid()}-def456"  # a live process's
    ours.mkdir()
    other_kind = tmp_path / f"deepaas-predict-{gone.pid}-ghi789"
    other_kind.mkdir()
    unnamed = tmp_path / "deepaas-training-x1y2z3"  # made before names had the pid
    unnamed.mkdir()
    assert scratch.sweep("training", tmp_path) == [left]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (ours, other_kind, unnamed)
    )


def test_a_scratch_directory_is_named_after_its_process_and_removed_after_use() -> None:
    with scratch.scratch("predict") as directory:
        assert directory.is_dir()
        assert directory.name.startswith(f"deepaas-predict-{os.getpid()}-")
        (directory / "x").write_text("x")
    assert not directory.exists()


def test_files_travel_as_their_content(tmp_path: Path) -> None:
    here = tmp_path / "server"
    here.mkdir()
    (here / "a.csv").write_text("1,2")
    (here / "b.csv").write_text("3,4")
    a = UploadedFile("data", str(here / "a.csv"), "text/csv", "a.csv")
    b = UploadedFile("more", str(here / "b.csv"), "text/csv", "b.csv")
    kwargs = {"data": a, "more": [a, b], "epochs": 3}
    assert files.has_files(kwargs)
    assert not files.has_files({"epochs": 3})

    contents = files.pack(kwargs)
    there = tmp_path / "node"
    unpacked = files.unpack(kwargs, contents, there)
    assert unpacked["epochs"] == 3
    assert Path(unpacked["data"].filename).parent == there
    assert Path(unpacked["data"].filename).read_text() == "1,2"
    assert unpacked["more"][0] == unpacked["data"]
    assert Path(unpacked["more"][1].filename).read_text() == "3,4"
    assert unpacked["more"][1]._replace(filename="") == b._replace(filename="")


def test_nothing_imports_ray_unless_it_is_chosen() -> None:
    code = (
        "import sys\n"
        "import deepaas_lite.cmd.start, deepaas_lite.web.app, deepaas_lite.engine.ray.cluster\n"
        "from deepaas_lite import config\n"
        "config.Settings.from_conf(config.parse([]))\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
