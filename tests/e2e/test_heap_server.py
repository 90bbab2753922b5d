"""deepaas-run keeps what lives as long as it out of full garbage collections
(``engine/heap.py``): once its models have started, and when a model has loaded a new
version. A real server; its debug log says what it froze."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.server import running


def test_the_server_freezes_its_models_at_start_and_each_version_it_loads(
    tmp_path: Path,
) -> None:
    # In threads: a version is loaded into the server process (a worker loads its own).
    args = ["--model-name", "steps", "--predict-workers", "0", "--debug"]
    args += ["--state-dir", str(tmp_path / "state")]
    with running(args, tmp_path / "server.log") as server:
        started = server.wait_for_log(r"models started: (\d+) objects frozen")
        assert int(started[1]) > 10_000  # modules, the plugin, aiohttp: what lives on
        status, record = server.json(
            "POST",
            "/v2/models/steps/train/",
            body=b'{"epochs": 1}',
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, record
        loaded = server.wait_for_log(
            rf"model 'steps' loaded version {record['uuid']}: (\d+) objects frozen"
        )
        assert int(loaded[1]) >= int(started[1])
