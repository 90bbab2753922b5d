"""POST /v2/models/{id}/predict/ through real HTTP, in-process."""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
import threading
import types
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from deepaas_lite_test_plugins import echo

from tests.conftest import ClientFactory

Client = Any


async def test_query_string_list(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/?data=5.1&data=3.5&data=1.4")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "OK"
    assert body["predictions"]["data"] == [5.1, 3.5, 1.4]
    assert body["predictions"]["count"] == 1  # the default


@pytest.mark.parametrize("path", ["/v2/models/echo/predict", "/v2/models/echo/predict/"])
async def test_with_and_without_trailing_slash(client: Client, path: str) -> None:
    resp = await client.post(path + "?data=1", allow_redirects=False)
    assert resp.status == 200


async def test_json_body(client: Client) -> None:
    resp = await client.post(
        "/v2/models/echo/predict/", json={"data": [1, 2], "mode": "upper", "count": 3}
    )
    assert resp.status == 200
    predictions = (await resp.json())["predictions"]
    assert predictions["data"] == [1.0, 2.0]
    assert predictions["mode"] == "upper"
    assert predictions["count"] == 3


async def test_urlencoded_form(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/", data={"data": ["1", "2"], "label": "x"})
    assert resp.status == 200
    predictions = (await resp.json())["predictions"]
    assert predictions["data"] == [1.0, 2.0]
    assert predictions["label"] == "x"


@pytest.fixture
def upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own directory for temporary files: uploads are saved there."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


async def test_multipart_file_is_removed_after_the_call(client: Client, upload_dir: Path) -> None:
    form = aiohttp.FormData()
    form.add_field("data", "7")
    form.add_field("upload", b"hello file", filename="notes.txt", content_type="text/plain")
    resp = await client.post("/v2/models/echo/predict/", data=form)
    assert resp.status == 200
    upload = (await resp.json())["predictions"]["upload"]
    assert upload["exists"] is True
    assert upload["content"] == "hello file"
    assert upload["original_filename"] == "notes.txt"
    assert upload["content_type"] == "text/plain"
    assert upload["name"] == "upload"
    assert Path(upload["path"]).is_relative_to(upload_dir)
    assert not os.path.exists(upload["path"])
    assert list(upload_dir.iterdir()) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"data": "1", "count": "99"},  # invalid after the file was saved
        {"data": "1", "typo": "x"},  # unknown argument
        {"count": "2"},  # required argument missing
    ],
)
async def test_file_removed_when_validation_fails(
    client: Client, upload_dir: Path, fields: dict[str, str]
) -> None:
    form = aiohttp.FormData()
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("upload", b"x", filename="a.bin")
    resp = await client.post("/v2/models/echo/predict/", data=form)
    assert resp.status == 422
    assert list(upload_dir.iterdir()) == []


async def test_file_removed_when_the_plugin_raises(client: Client, upload_dir: Path) -> None:
    form = aiohttp.FormData()
    form.add_field("data", "1")
    form.add_field("sleep", "-1")  # time.sleep(-1) raises ValueError in the plugin
    form.add_field("upload", b"x", filename="a.bin")
    resp = await client.post("/v2/models/echo/predict/", data=form)
    assert resp.status == 500
    assert list(upload_dir.iterdir()) == []


async def test_file_argument_must_be_a_file(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/?data=1&upload=not-a-file")
    assert resp.status == 422
    assert "upload" in (await resp.json())["errors"]


async def test_invalid_arguments_are_named(client: Client) -> None:
    resp = await client.post(
        "/v2/models/echo/predict/",
        json={"data": [1, "x"], "count": 30, "mode": "loud", "typo": 1},
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["code"] == 422
    assert set(body["errors"]) == {"data", "count", "mode", "typo"}
    assert "count" in body["message"]


async def test_missing_required_argument(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/")
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"data": ["Missing data for required field."]}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"--x\r\nbroken", "multipart/form-data"),
    ],
)
async def test_malformed_body_is_400(client: Client, body: bytes, content_type: str) -> None:
    resp = await client.post(
        "/v2/models/echo/predict/", data=body, headers={"Content-Type": content_type}
    )
    assert resp.status == 400
    err = await resp.json()
    assert err["code"] == 400 and err["message"]


async def test_accept_header_negotiation(client: Client) -> None:
    resp = await client.post(
        "/v2/models/echo/predict/?data=1",
        headers={"Accept": "application/json;q=0.5, text/plain"},
    )
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    assert '"data": [1.0]' in await resp.text()


async def test_accept_star_picks_the_default(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/?data=1", headers={"Accept": "*/*"})
    assert resp.content_type == "application/json"
    assert (await resp.json())["status"] == "OK"


async def test_accept_query_argument_and_bytes_output(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/?data=1&accept=image/png")
    assert resp.status == 200
    assert resp.content_type == "image/png"
    assert (await resp.read()).startswith(b"\x89PNG")


async def test_unsatisfiable_accept_is_406(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/?data=1", headers={"Accept": "text/html"})
    assert resp.status == 406
    assert "text/plain" in (await resp.json())["message"]


async def test_json_only_model_406(client: Client) -> None:
    resp = await client.post(
        "/v2/models/object-plugin/predict/?x=1", headers={"Accept": "image/png"}
    )
    assert resp.status == 406


async def test_response_schema_body_is_the_output(client: Client) -> None:
    resp = await client.post("/v2/models/schema-output/predict/")
    assert resp.status == 200
    assert await resp.json() == {"label": "cat", "probability": 0.9}


async def test_output_breaking_response_schema_is_500(client: Client) -> None:
    resp = await client.post("/v2/models/schema-output/predict/?valid=false")
    assert resp.status == 500
    assert "probability" in (await resp.json())["message"]


async def test_unknown_model_404(client: Client) -> None:
    resp = await client.post("/v2/models/nope/predict/")
    assert resp.status == 404
    body = await resp.json()
    assert body.pop("request_id") == resp.headers["X-Request-ID"]
    assert body == {"code": 404, "message": "Model 'nope' not found"}


async def test_model_without_predict_501(client: Client) -> None:
    resp = await client.post("/v2/models/bare/predict/")
    assert resp.status == 501
    assert (await resp.json())["code"] == 501


async def test_plugin_exception_500_without_traceback(client: Client) -> None:
    resp = await client.post("/v2/models/raising/predict/?kind=value")
    assert resp.status == 500
    body = await resp.json()
    assert body.pop("request_id") == resp.headers["X-Request-ID"]
    assert body == {"code": 500, "message": "the plugin says no"}


async def test_plugin_http_exception_keeps_status(client: Client) -> None:
    resp = await client.post("/v2/models/raising/predict/?kind=http")
    assert resp.status == 402
    body = await resp.json()
    assert body.pop("request_id") == resp.headers["X-Request-ID"]
    assert body == {"code": 402, "message": "Pay first"}


async def test_plugin_exit_does_not_stop_the_server(client: Client) -> None:
    resp = await client.post("/v2/models/raising/predict/?kind=exit")
    assert resp.status == 500
    assert (await client.get("/v2/health/live")).status == 200


async def test_body_over_client_max_size_413(make_client: ClientFactory) -> None:
    client = await make_client(client_max_size=1024)
    resp = await client.post("/v2/models/echo/predict/", json={"data": [1.0] * 1000})
    assert resp.status == 413
    assert (await resp.json())["code"] == 413
    form = aiohttp.FormData()
    form.add_field("upload", io.BytesIO(b"x" * 4096), filename="big.bin")
    resp = await client.post("/v2/models/echo/predict/", data=form)
    assert resp.status == 413


async def test_client_max_size_zero_is_no_limit(make_client: ClientFactory) -> None:
    client = await make_client(client_max_size=0)
    form = aiohttp.FormData()
    form.add_field("data", "1")
    form.add_field("upload", io.BytesIO(b"y" * (3 * 1024 * 1024)), filename="big.bin")
    resp = await client.post("/v2/models/echo/predict/", data=form)
    assert resp.status == 200


async def test_class_plugin_is_one_instance(client: Client) -> None:
    first = await (await client.post("/v2/models/class-plugin/predict/?x=3")).json()
    second = await (await client.post("/v2/models/class-plugin/predict/?x=4")).json()
    assert second["predictions"]["calls"] == first["predictions"]["calls"] + 1
    assert second["predictions"]["instances"] == first["predictions"]["instances"]


async def test_slow_predict_does_not_delay_other_requests(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one predict call is held inside the plugin, other requests are answered."""
    started, release = threading.Event(), threading.Event()

    def held(seconds: float) -> None:  # echo's time.sleep: returns when the test lets it
        started.set()
        release.wait(timeout=60)

    monkeypatch.setattr(echo, "time", types.SimpleNamespace(sleep=held))
    slow = asyncio.ensure_future(client.post("/v2/models/echo/predict/?data=1&sleep=1.5"))
    try:
        assert await asyncio.to_thread(started.wait, 60)
        fast = await client.post("/v2/models/echo/predict/?data=2")
        models = await client.get("/v2/models/")
        assert fast.status == 200 and models.status == 200
        assert not slow.done()
    finally:
        release.set()
    assert (await slow).status == 200


async def test_model_without_arguments(client: Client) -> None:
    for kwargs in ({}, {"json": {}}):
        resp = await client.post("/v2/models/bare-predict/predict/", **kwargs)
        assert resp.status == 200
        assert (await resp.json())["predictions"] == {"kwargs": {}}
    resp = await client.post("/v2/models/bare-predict/predict/", json={"unknown": 1})
    assert resp.status == 422
    assert (await resp.json())["errors"] == {"unknown": ["Unknown field."]}


class Words:
    """Answers text, as str or as UTF-8 bytes."""

    def get_predict_args(self) -> dict[str, Any]:
        from marshmallow import fields, validate

        return {"accept": fields.Str(validate=validate.OneOf(["text/plain", "text/csv"]))}

    def predict(self, accept: str) -> str | bytes:
        return "größe" if accept == "text/plain" else "größe\n".encode()


async def test_text_answers_say_their_charset(make_client: ClientFactory) -> None:
    """Python ``requests`` reads text without a charset as ISO-8859-1 (and so showed
    "grÃ¶ÃŸe"); text answers say ``charset=utf-8``."""
    import requests

    from deepaas_lite.model.wrapper import ModelWrapper

    client = await make_client(models={"words": ModelWrapper("words", Words())})
    url = str(client.make_url("/v2/models/words/predict/"))
    for accept, text in [("text/plain", "größe"), ("text/csv", "größe\n")]:
        answer = await asyncio.to_thread(requests.post, url, headers={"Accept": accept})
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == f"{accept}; charset=utf-8"
        assert answer.text == text
