"""The DEEPaaS blog's curl session, verbatim, against a real deepaas-run."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.server import running


def test_blog_session(tmp_path: Path) -> None:
    env = {"DEEPAAS_IRIS_MODEL_DIR": str(tmp_path / "iris")}
    args = ["--model-name", "iris-deepaas", "--state-dir", str(tmp_path / "state")]
    with running(args, tmp_path / "server.log", env) as server:
        status, models = server.json("GET", "/v2/models/")
        assert status == 200
        assert [m["id"] for m in models["models"]] == ["iris-deepaas"]

        status, headers, body = server.request(
            "POST",
            "/v2/models/iris-deepaas/train/",
            headers={"accept": "application/json"},
        )
        assert status == 200, body
        import json

        record = json.loads(body)
        assert record["status"] in {"pending", "running"}
        assert headers["Location"] == f"/v2/models/iris-deepaas/train/{record['uuid']}"

        deadline = time.monotonic() + 60
        while record["status"] in {"pending", "running"}:
            assert time.monotonic() < deadline, record
            time.sleep(0.2)
            status, record = server.json("GET", f"/v2/models/iris-deepaas/train/{record['uuid']}")
            assert status == 200
        assert record["status"] == "done", record
        assert record["result"]["output"]["accuracy"] > 0.8
        assert {"finish_date", "duration"} <= set(record["result"])

        status, listed = server.json("GET", "/v2/models/iris-deepaas/train/")
        assert [r["uuid"] for r in listed] == [record["uuid"]]

        status, prediction = server.json(
            "POST",
            "/v2/models/iris-deepaas/predict/?data=5.1&data=3.5&data=1.4&data=0.2",
            headers={"accept": "application/json"},
        )
        assert status == 200
        assert prediction == {"status": "OK", "predictions": {"labels": [0]}}
    assert "deepaas-lite is serving iris-deepaas" in server.output()
    assert f"{server.url}/ui" in server.output()
