"""``deepaas-run --reload``: an edited plugin file is served without a manual restart."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.server import running
from tests.e2e.test_training_server import submit, wait_status

SOURCE = """
import time

from marshmallow import fields


def predict():
    return "{version}"


def get_train_args():
    return {{"sleep": fields.Float(load_default=0.0)}}


def train(sleep=0.0):
    time.sleep(sleep)
    return "{version}"
"""


def test_an_edited_file_is_served_and_a_running_training_is_interrupted(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    path = source / "live_plugin.py"
    path.write_text(SOURCE.format(version="v1"))
    args = ["--state-dir", str(tmp_path / "state"), "--plugin", str(path), "--reload"]
    with running(args, tmp_path / "server.log") as server:
        status, answer = server.json("POST", "/v2/models/live_plugin/predict/")
        assert (status, answer["predictions"]) == (200, "v1")
        record = submit(server, "live_plugin", {"sleep": 300})
        wait_status(server, "live_plugin", record["uuid"], {"running"})

        path.write_text(SOURCE.format(version="v2"))
        answers = []
        deadline = time.monotonic() + 60
        while not answers or answers[-1] != (200, "v2"):
            assert time.monotonic() < deadline, (answers[-5:], server.output())
            # The port stays bound across the restart: every request is answered.
            status, answer = server.json("POST", "/v2/models/live_plugin/predict/")
            answers.append((status, answer.get("predictions")))
            time.sleep(0.05)
        assert set(answers) <= {(200, "v1"), (200, "v2")}, answers

        ended = wait_status(server, "live_plugin", record["uuid"], {"interrupted"})
        assert ended["status"] == "interrupted"
        assert "Reloading: live_plugin.py changed" in server.output()
        status, answer = server.json("POST", "/v2/models/live_plugin/train/")
        done = wait_status(server, "live_plugin", answer["uuid"], {"done", "error"})
        assert done["result"]["output"] == "v2"
