"""DEEPaaS's endpoint switches: disabled endpoints answer 404 and leave both documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepaas_lite import config
from tests.conftest import ClientFactory

Client = Any


async def test_disabled_train_endpoint(make_client: ClientFactory) -> None:
    client = await make_client(train_endpoint=False)
    resp = await client.post("/v2/models/train-sleeper/train/")
    assert resp.status == 404
    body = await resp.json()
    assert body["message"] == "The train endpoint is disabled on this server (--notrain-endpoint)"
    for path in ("/v2/models/echo/train", "/v2/models/echo/train/0123/log"):
        assert (await client.get(path)).status == 404
    assert (await client.delete("/v2/models/echo/train/0123")).status == 404
    assert (await client.post("/v2/models/echo/predict/?data=1")).status == 200
    swagger = await (await client.get("/swagger.json")).json()
    openapi = await (await client.get("/openapi.json")).json()
    assert not [p for p in swagger["paths"] if "/train/" in p]
    assert not [p for p in openapi["paths"] if "/train" in p.replace("/models/train-", "")]
    assert "/v2/models/echo/predict/" in swagger["paths"]


async def test_disabled_predict_endpoint(make_client: ClientFactory) -> None:
    client = await make_client(predict_endpoint=False)
    resp = await client.post("/v2/models/echo/predict/?data=1")
    assert resp.status == 404
    assert "(--nopredict-endpoint)" in (await resp.json())["message"]
    swagger = await (await client.get("/swagger.json")).json()
    assert not [p for p in swagger["paths"] if p.endswith("/predict/")]
    assert "/v2/models/echo/train/" in swagger["paths"]


async def test_disabled_doc_endpoint(make_client: ClientFactory) -> None:
    client = await make_client(doc_endpoint=False)
    for path in ("/swagger.json", "/openapi.json", "/ui", "/api", "/ui/static/swagger-ui.css"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 404, path
    assert (await client.get("/v2/models/")).status == 200


def test_switches_from_a_config_file(tmp_path: Path) -> None:
    conf_file = tmp_path / "deepaas.conf"
    conf_file.write_text("[DEFAULT]\ntrain_endpoint = false\ndoc_endpoint = False\n")
    settings = config.Settings.from_conf(config.parse(["--config-file", str(conf_file)]))
    assert (settings.train_endpoint, settings.doc_endpoint) == (False, False)
    assert settings.predict_endpoint
    flags = config.Settings.from_conf(config.parse(["--nopredict-endpoint"]))
    assert (flags.predict_endpoint, flags.train_endpoint) == (False, True)
