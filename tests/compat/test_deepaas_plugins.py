"""DEEPaaS-era plugins through real HTTP: uploads, accept, HTTPBadRequest, metadata."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import aiohttp
import pytest

from deepaas_lite.model import loading
from deepaas_lite.model.wrapper import ModelWrapper
from tests.conftest import ClientFactory, marshmallow_major

Client = Any

needs_mm3 = pytest.mark.skipif(
    marshmallow_major() >= 4, reason="keyword metadata loads under marshmallow 3 only"
)


def _form(name: str, content: bytes, filename: str = "x.bin", **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(name, io.BytesIO(content), filename=filename, content_type="image/png")
    for key, value in fields.items():
        form.add_field(key, value)
    return form


async def _ended(client: Client, location: str) -> dict[str, Any]:
    for _ in range(600):
        record: dict[str, Any] = await (await client.get(location)).json()
        if record["status"] not in {"pending", "running"}:
            return record
        await asyncio.sleep(0.1)
    raise AssertionError(record)


async def test_class_plugin_receives_an_uploaded_file(client: Client) -> None:
    resp = await client.post(
        "/v2/models/deepaas-class/predict/", data=_form("data", b"12345", "d.png")
    )
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {
        "status": "OK",
        "predictions": {"size": 5, "original_filename": "d.png"},
    }


async def test_returned_file_is_the_answer(client: Client) -> None:
    resp = await client.post(
        "/v2/models/deepaas-class/predict/",
        data=_form("data", b"abc"),
        headers={"Accept": "text/csv"},
    )
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/csv"
    assert await resp.read() == b"size\n3\n"


async def test_uploaded_file_in_a_training_process(client: Client) -> None:
    resp = await client.post("/v2/models/deepaas-class/train/", data=_form("dataset", b"rows"))
    assert resp.status == 200, await resp.text()
    record = await _ended(client, resp.headers["Location"])
    assert record["status"] == "done", record
    assert record["result"]["output"] == {"bytes": 4, "is_uploaded_file": True}


def test_keyword_metadata_plugin_is_explained_under_marshmallow_4(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if marshmallow_major() < 4:
        pytest.skip("marshmallow 3 loads keyword metadata")
    with caplog.at_level(logging.ERROR):
        models = loading.load_models(["deepaas-style", "echo"])
    assert list(models) == ["echo"]
    assert (
        "Model 'deepaas-style' failed to load: TypeError(\"Field.__init__() got an "
        "unexpected keyword argument 'description'\"): this plugin uses marshmallow 3 "
        "keyword metadata ('description=...'), which marshmallow "
    ) in caplog.text
    assert "rejects; install 'marshmallow>=3.20,<4' (see docs/migration.md)" in caplog.text


@needs_mm3
async def test_deepaas_style_plugin_predicts(client: Client) -> None:
    resp = await client.post(
        "/v2/models/deepaas-style/predict/", data=_form("image", b"0123456789abc")
    )
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"label": "big", "size": 13, "threshold": 0.5}

    text = await client.post(
        "/v2/models/deepaas-style/predict/?threshold=0.2",
        data=_form("image", b"01"),
        headers={"Accept": "text/plain"},
    )
    assert text.status == 200 and text.content_type == "text/plain"
    assert await text.text() == "small (2 bytes)"


@needs_mm3
async def test_deepaas_style_http_bad_request_is_kept(client: Client) -> None:
    resp = await client.post("/v2/models/deepaas-style/predict/", data=_form("image", b""))
    assert resp.status == 400
    body = await resp.json()
    assert (body["code"], body["message"]) == (400, "The image is empty")


@needs_mm3
async def test_deepaas_style_validation_is_422(client: Client) -> None:
    resp = await client.post(
        "/v2/models/deepaas-style/predict/?threshold=2", data=_form("image", b"1")
    )
    assert resp.status == 422
    assert set((await resp.json())["errors"]) == {"threshold"}


@needs_mm3
async def test_deepaas_style_trains_with_a_file(client: Client) -> None:
    resp = await client.post(
        "/v2/models/deepaas-style/train/", data=_form("dataset", b"rows", epochs="3")
    )
    assert resp.status == 200, await resp.text()
    record = await _ended(client, resp.headers["Location"])
    assert record["status"] == "done", record
    assert record["result"]["output"] == {"epochs": 3, "dataset": "dataset"}


async def test_metadata_only_plugin_is_listed(client: Client) -> None:
    resp = await client.get("/v2/models/metadata-only/")
    assert resp.status == 200
    body = await resp.json()
    assert body["description"] == "Only metadata"
    assert [link["rel"] for link in body["links"]] == ["self"]
    predict = await client.post("/v2/models/metadata-only/predict/")
    assert predict.status == 501


async def test_raising_metadata_is_described_from_its_distribution(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        listed = await client.get("/v2/models/")
    assert listed.status == 200
    by_id = {m["id"]: m for m in (await listed.json())["models"]}
    assert by_id["metadata-raises"]["name"] == "deepaas-lite-test-plugins"
    assert by_id["metadata-raises"]["version"] == "1.2.3"
    assert by_id["echo"]["description"] == "Echoes its arguments"
    one = await client.get("/v2/models/metadata-raises")
    assert one.status == 200
    assert (await client.post("/v2/models/metadata-raises/predict/")).status == 200


def test_raising_metadata_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    model: ModelWrapper = loading.load_model("metadata-raises")
    with caplog.at_level(logging.ERROR):
        model.metadata()
        model.metadata()
    messages = [r.getMessage() for r in caplog.records if "get_metadata" in r.getMessage()]
    assert messages == [
        "Model 'metadata-raises': get_metadata() failed: "
        "RuntimeError('metadata.json is missing'); described from its distribution"
    ]


async def test_uploaded_file_in_a_predict_worker_process(make_client: ClientFactory) -> None:
    client = await make_client(predict_workers=1, models=loading.load_models(["deepaas-class"]))
    resp = await client.post(
        "/v2/models/deepaas-class/predict/", data=_form("data", b"1234", "w.png")
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["predictions"] == {"size": 4, "original_filename": "w.png"}


class DemoApp:
    """A JSON-only plugin shaped like deephdc's demo_app (dashed names, optional files,
    no ``accept`` argument), written with marshmallow 4 spellings so it loads under both."""

    def get_predict_args(self) -> dict[str, Any]:
        from marshmallow import fields

        return {
            "demo-str": fields.Str(load_default="some-string"),
            "demo-int": fields.Int(load_default=1),
            "demo-image": fields.Field(
                required=False, metadata={"type": "file", "location": "form"}
            ),
        }

    def predict(self, **kwargs: Any) -> dict[str, Any]:
        image = kwargs.pop("demo-image", None)
        return {**kwargs, "image": None if image is None else image.original_filename}


@pytest.mark.parametrize(
    "accept", ["application/json", "application/*", "*/*", "application/json;q=0.5, text/csv"]
)
async def test_query_accept_is_negotiated_for_a_json_only_model(
    make_client: ClientFactory, accept: str
) -> None:
    """The AI4OS UI (deepaas_ui) sends ``?accept=<mime>`` and the same Accept header on
    every Submit, with a multipart body: DEEPaaS answers 200 for a model without an
    ``accept`` argument, and so do we."""
    client = await make_client(models={"demo-app": ModelWrapper("demo-app", DemoApp())})
    resp = await client.post(
        "/v2/models/demo-app/predict/",
        params={"accept": accept, "demo-int": "3"},
        headers={"Accept": accept},
        data=_form("demo-image", b"png", "cat.png"),
    )
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/json"
    assert (await resp.json())["predictions"] == {
        "demo-str": "some-string",
        "demo-int": 3,
        "image": "cat.png",
    }


async def test_query_accept_nothing_fits_is_406(make_client: ClientFactory) -> None:
    client = await make_client(models={"demo-app": ModelWrapper("demo-app", DemoApp())})
    resp = await client.post("/v2/models/demo-app/predict/?accept=text/csv")
    assert resp.status == 406, await resp.text()
    assert (await resp.json())["code"] == 406


async def test_query_accept_is_negotiated_against_the_choices(client: Client) -> None:
    """With an ``accept`` argument, ``?accept=`` is negotiated like the header: a range
    picks a choice, and a value no choice satisfies is 406 (not a 422 of OneOf)."""
    ranged = await client.post(
        "/v2/models/deepaas-class/predict/?accept=text/*", data=_form("data", b"abc")
    )
    assert ranged.status == 200, await ranged.text()
    assert ranged.content_type == "text/csv"
    refused = await client.post(
        "/v2/models/deepaas-class/predict/?accept=image/png", data=_form("data", b"abc")
    )
    assert refused.status == 406, await refused.text()
