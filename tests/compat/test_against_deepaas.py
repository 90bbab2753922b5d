"""deepaas-lite's answers next to DEEPaaS 2.6.0's, for one DEEPaaS-style plugin.

``deepaas-2.6.0.json`` holds what a real DEEPaaS 2.6.0 answered to ``CASES`` (recorded
once by ``record_deepaas.py``, which says how). Here the same requests go to
deepaas-lite, and each answer is held to a rule: what a DEEPaaS client reads is there
(``superset``), or the difference is the one docs/migration.md documents.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from deepaas_lite import __version__
from tests.compat.record_deepaas import BASE, CASES, FIXTURES, MODEL, normalise
from tests.conftest import ClientFactory, marshmallow_major

needs_mm3 = pytest.mark.skipif(
    marshmallow_major() >= 4,
    reason="the DEEPaaS-style plugin uses marshmallow 3 keyword metadata",
)

Answer = dict[str, Any]
RECORDED: dict[str, Answer] = json.loads(FIXTURES.read_text())


def _superset(ours: Any, theirs: Any) -> bool:
    """Everything DEEPaaS answered is in ours (ours may add keys; links compared by rel)."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        return all(
            key in ours
            and (_links(ours[key], value) if key == "links" else _superset(ours[key], value))
            for key, value in theirs.items()
        )
    if isinstance(theirs, list) and isinstance(ours, list):
        return len(ours) == len(theirs) and all(map(_superset, ours, theirs))
    return bool(ours == theirs)


def _links(ours: list[dict[str, str]], theirs: list[dict[str, str]]) -> bool:
    """Each of DEEPaaS's links is there, by rel; hrefs may differ only by a final slash
    (and ``help`` points to /ui, where DEEPaaS's /api redirects)."""
    by_rel = {link["rel"]: link["href"] for link in ours}
    for link in theirs:
        href = by_rel.get(link["rel"])
        if href is None:
            return False
        if link["rel"] == "help":
            continue
        if href.rstrip("/") != link["href"].rstrip("/"):
            return False
    return True


def same(ours: Answer, theirs: Answer) -> None:
    assert ours["status"] == theirs["status"]
    assert ours["content_type"] == theirs["content_type"]
    assert _superset(ours["body"], theirs["body"]), (ours["body"], theirs["body"])


def v2_with_server_metadata(ours: Answer, theirs: Answer) -> None:
    """GET /v2/ is also the Open Inference Protocol's server metadata: its ``version`` is
    the server's (docs/migration.md), all else as DEEPaaS answered."""
    assert ours["body"]["version"] == __version__
    same(ours, {**theirs, "body": {**theirs["body"], "version": __version__}})


def json_error(ours: Answer, theirs: Answer) -> None:
    """DEEPaaS answers aiohttp's text ("404: Not Found"); ours is the JSON error."""
    assert theirs["content_type"] == "text/plain"
    assert ours["status"] == theirs["status"]
    assert ours["body"]["code"] == theirs["status"] and ours["body"]["message"]


def errors_under_key(ours: Answer, theirs: Answer) -> None:
    """422: DEEPaaS's body is webargs's messages; ours has the same under "errors"."""
    assert ours["status"] == theirs["status"] == 422
    assert ours["body"]["errors"] == theirs["body"]
    assert ours["body"]["code"] == 422


def not_acceptable(ours: Answer, theirs: Answer) -> None:
    """An Accept the model cannot produce: DEEPaaS 422 (accept's OneOf), ours 406."""
    assert theirs["status"] == 422 and set(theirs["body"]) == {"accept"}
    assert ours["status"] == 406 and ours["body"]["code"] == 406


def answered_without_redirect(ours: Answer, theirs: Answer) -> None:
    """No trailing slash: DEEPaaS redirects (308), ours answers as for the slash."""
    assert theirs["status"] == 308
    same(ours, RECORDED["predict"])


def answered_where_deepaas_hangs(ours: Answer, theirs: Answer) -> None:
    """The plugin raises HTTPBadRequest: DEEPaaS 2.6.0 never answers; ours keeps the 400."""
    assert theirs["status"] is None
    assert (ours["status"], ours["body"]["message"]) == (400, "The image is empty")


RULES: dict[str, Callable[[Answer, Answer], None]] = {
    "versions": same,
    "v2": v2_with_server_metadata,
    "models": same,
    "model": same,
    "predict": same,
    "predict_threshold": same,
    "predict_text": same,
    "predict_missing_image": errors_under_key,
    "predict_bad_threshold": errors_under_key,
    "predict_bad_accept": not_acceptable,
    "predict_no_slash": answered_without_redirect,
    "predict_unknown_model": json_error,
    "train_start": same,
    "train_get": same,
    "train_list": same,
    "train_delete": same,
    "train_get_deleted": json_error,
    "train_unknown": json_error,
    "predict_plugin_400": answered_where_deepaas_hangs,
}


def test_every_case_is_recorded_and_ruled() -> None:
    names = [case[0] for case in CASES]
    assert set(RECORDED) == {*names, "swagger"}
    assert set(RULES) == set(names)


async def _answers(client: Any) -> dict[str, Answer]:
    out: dict[str, Answer] = {}
    uuid = ""
    for name, method, path, upload, headers in CASES:
        path = path.replace("{uuid}", uuid)
        data = None
        if upload is not None:
            data = aiohttp.FormData()
            data.add_field(
                upload[0], upload[1], filename=f"{upload[0]}.png", content_type="image/png"
            )
        if name == "train_get":
            while (await (await client.get(path)).json())["status"] in {"pending", "running"}:
                await asyncio.sleep(0.1)
        resp = await client.request(method, path, data=data, headers=headers, allow_redirects=False)
        text = await resp.text()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        if name == "train_start":
            uuid = body["uuid"]
        out[name] = {
            "status": resp.status,
            "content_type": resp.content_type,
            "body": normalise(body),
        }
    return out


@needs_mm3
async def test_answers_match_deepaas_2_6_0(make_client: ClientFactory) -> None:
    from deepaas_lite.model import loading

    client = await make_client(models=loading.load_models([MODEL]))
    ours = await _answers(client)
    for name, rule in RULES.items():
        try:
            rule(ours[name], RECORDED[name])
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}; ours {ours[name]}") from exc


@needs_mm3
async def test_swagger_json_as_deepaas_clients_read_it(make_client: ClientFactory) -> None:
    from deepaas_lite.model import loading

    client = await make_client(models=loading.load_models([MODEL]))
    ours = await (await client.get("/swagger.json")).json()
    theirs = RECORDED["swagger"]
    assert ours["swagger"] == theirs["swagger"] == "2.0"
    for path in theirs["paths"]:
        if path == "/v2/debug/":  # DEEPaaS's --debug-endpoint: not in deepaas-lite
            continue
        assert path in ours["paths"] or path + "/" in ours["paths"], path
    predict = ours["paths"][f"{BASE}/predict/"]["post"]
    shape = [(p["name"], p["in"], p["type"]) for p in predict["parameters"]]
    assert shape == [(p["name"], p["in"], p["type"]) for p in theirs["predict_parameters"]]
    by_name = {p["name"]: p for p in predict["parameters"]}
    for param in theirs["predict_parameters"]:
        for key in ("description", "required", "default", "minimum", "maximum"):
            if key in param and param["name"] != "accept":
                assert by_name[param["name"]][key] == param[key], (param["name"], key)
    assert predict["produces"] == [m for m in theirs["predict_produces"] if m != "*/*"]
    assert "ModelPredictionResponse" in ours["definitions"]
