"""``--plugin PATH[:OBJECT]``: a real ``deepaas-run`` and ``deepaas-cli`` serving files.

Predictions in threads and in worker processes, and trainings in processes of their
own, all load the plugin from the same file.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

from tests.e2e.server import PORT_0, installed, running
from tests.e2e.test_training_server import submit, wait_status

SOURCE = '''
"""A plugin written in one file, never installed."""
import os

from marshmallow import fields

from dev_loop_helper import GREETING


class Greeter:
    def get_predict_args(self):
        return {"name": fields.Str(load_default="world")}

    def predict(self, name="world"):
        return {"greeting": f"{GREETING}, {name}", "pid": os.getpid()}

    def get_train_args(self):
        return {"epochs": fields.Int(load_default=1)}

    def train(self, epochs=1):
        return {"epochs": epochs, "pid": os.getpid(), "greeting": GREETING}


def predict():
    return "module"
'''


def write_plugin(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dev_loop_helper.py").write_text('GREETING = "hello"\n')
    path = directory / "dev_loop.py"
    path.write_text(textwrap.dedent(SOURCE))
    return path


def test_run_serves_trains_and_predicts_files_in_threads_and_workers(tmp_path: Path) -> None:
    path = write_plugin(tmp_path / "src")
    args = [
        "--state-dir",
        str(tmp_path / "state"),
        "--plugin",
        f"greeter={path}:Greeter",
        "--plugin",
        str(path),
        "--model-name",
        "echo",
        "--config-file",
        str(tmp_path / "workers.conf"),
    ]
    (tmp_path / "workers.conf").write_text("[model:greeter]\npredict_workers = 2\n")
    with running(args, tmp_path / "server.log") as server:
        status, listing = server.json("GET", "/v2/models/")
        assert status == 200
        assert sorted(model["id"] for model in listing["models"]) == ["dev_loop", "echo", "greeter"]
        status, answer = server.json("POST", "/v2/models/greeter/predict/?name=you")
        assert status == 200, answer
        assert answer["predictions"]["greeting"] == "hello, you"
        assert answer["predictions"]["pid"] != server.process.pid  # a worker process
        status, answer = server.json("POST", "/v2/models/dev_loop/predict/")
        assert (status, answer["predictions"]) == (200, "module")
        record = submit(server, "greeter", {"epochs": 3})
        done = wait_status(server, "greeter", record["uuid"], {"done", "error"})
        assert done["status"] == "done", done
        output = done["result"]["output"]
        assert output["epochs"] == 3 and output["greeting"] == "hello"
        assert output["pid"] != server.process.pid


def test_run_refuses_a_plugin_it_cannot_serve(tmp_path: Path) -> None:
    path = write_plugin(tmp_path / "src")
    for value, message in [
        (str(tmp_path / "missing.py"), "is not a Python file"),
        (f"{path}:Nope", "has no attribute 'Nope'"),
    ]:
        proc = subprocess.run(
            [installed("deepaas-run"), "--state-dir", str(tmp_path), *PORT_0, "--plugin", value],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr


def test_cli_runs_a_file(tmp_path: Path) -> None:
    path = write_plugin(tmp_path / "src")
    cli = installed("deepaas-cli")
    proc = subprocess.run(
        [cli, "--plugin", f"{path}:Greeter", "predict", "--name", "cli"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["greeting"] == "hello, cli"
    options = ["--plugin", f"g={path}:Greeter", "--plugin", str(path), "--model-name", "g"]
    proc = subprocess.run(
        [cli, *options, "train", "--epochs", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["epochs"] == 2


def test_cli_trains_a_version_of_the_store_then_predicts_with_it(tmp_path: Path) -> None:
    from tests.e2e.test_model_store import PLUGIN

    state = tmp_path / "state"
    cli = [installed("deepaas-cli"), "--state-dir", str(state), "--plugin", f"v={PLUGIN}"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=60)

    proc = run("predict")
    assert proc.returncode == 1 and "train first" in proc.stderr
    proc = run("train", "--tag", "one")
    assert proc.returncode == 0, proc.stderr
    versions = state / "models" / "v" / "versions"
    (version,) = (path.name for path in versions.iterdir())
    assert f"version {version} of v is current" in proc.stderr
    proc = run("predict")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["tag"] == "one" and answer["model_dir"] == str(versions / version)
    proc = run("train", "--tag", "two", "--fail", "true")
    assert proc.returncode == 1 and "failed on purpose" in proc.stderr
    assert [path.name for path in versions.iterdir()] == [version]  # nothing left of it
    assert json.loads(run("predict").stdout)["tag"] == "one"
