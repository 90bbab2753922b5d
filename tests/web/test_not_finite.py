"""NaN and Infinity are not JSON: a prediction holding them is a 500 naming where they
are; a training result, or a model's metadata, holding them is sent with ``null`` in
their place."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import pytest

from deepaas_lite import exceptions
from deepaas_lite.model import loading
from deepaas_lite.model.output import dumps, finite
from tests.conftest import ClientFactory
from tests.web.test_train import wait_ended

Client = Any


def strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in {text!r}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    ("kind", "name"), [("nan", "NaN"), ("inf", "Infinity"), ("-inf", "-Infinity")]
)
async def test_prediction_with_non_finite_numbers_is_500_naming_the_place(
    client: Client, kind: str, name: str
) -> None:
    resp = await client.post("/v2/models/hardening-not-finite/predict/", params={"kind": kind})
    assert resp.status == 500
    body = strict_json(await resp.text())
    assert body["code"] == 500
    assert body["message"] == f"Output is not valid JSON: {name} at predictions.scores[2]"


async def test_training_result_with_non_finite_numbers_is_stored_as_null(client: Client) -> None:
    resp = await client.post("/v2/models/hardening-not-finite/train/", json={"kind": "nan"})
    assert resp.status == 200
    location = resp.headers["Location"]
    record = await wait_ended(client, location)
    assert record["status"] == "done", record
    assert record["result"]["output"] == {"loss": None, "history": [0.5, None], "epochs": 2}
    strict_json(await (await client.get(location)).text())
    strict_json(await (await client.get("/v2/models/hardening-not-finite/train/")).text())
    log = await (await client.get(location + "/log")).text()
    assert "NaN at loss" in log and "NaN at history[1]" in log


async def test_metadata_with_non_finite_numbers_is_sent_as_null(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """One plugin's metadata never makes the listing (or the documents) a 500."""
    with caplog.at_level(logging.WARNING, logger="deepaas_lite.model.wrapper"):
        client = await make_client(models=loading.load_models(["echo", "metadata-not-finite"]))
        listed = await client.get("/v2/models/")
        assert listed.status == 200, await listed.text()
        by_id = {m["id"]: m for m in strict_json(await listed.text())["models"]}
        one = await client.get("/v2/models/metadata-not-finite/")
        assert one.status == 200, await one.text()
        for model in (by_id["metadata-not-finite"], strict_json(await one.text())):
            assert model["accuracy"] is None
            assert model["scores"] == {"loss": None, "f1": [0.5, None]}
            assert model["description"] == "Metrics that are not all numbers"
        assert by_id["echo"]["description"] == "Echoes its arguments"
        for document in ("/openapi.json", "/swagger.json"):
            resp = await client.get(document)
            assert resp.status == 200, (document, await resp.text())
            tags = {t["name"] for t in strict_json(await resp.text())["tags"]}
            assert "metadata-not-finite" in tags
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "metadata-not-finite" in r.getMessage()
    ]
    assert warnings == [
        "Model 'metadata-not-finite': get_metadata() holds values that are not JSON "
        "(NaN at accuracy, Infinity at scores.loss, -Infinity at scores.f1[1]); "
        "they are sent as null"
    ]


class Array:
    """Something numpy-like: it becomes JSON through ``tolist()``."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def tolist(self) -> list[float]:
        return self.values


def test_dumps_names_the_first_non_finite_value() -> None:
    with pytest.raises(exceptions.InvalidResponse, match=r"NaN at a\.b\[1\]\.c$"):
        dumps({"ok": 1.0, "a": {"b": [{"c": 1.0}, {"c": math.nan}]}})
    with pytest.raises(exceptions.InvalidResponse, match=r"Infinity at values\[2\]$"):
        dumps({"values": Array([1.0, 2.0, math.inf])})
    with pytest.raises(exceptions.InvalidResponse, match=r"NaN at the top level$"):
        dumps(math.nan)
    assert dumps({"x": [1.5, Array([2.0])]}) == '{"x": [1.5, [2.0]]}'


def test_finite_replaces_and_lists_the_places() -> None:
    value = {"a": [1.0, math.nan, (math.inf, "x")], "b": {"c": -math.inf}, "d": 2}
    assert finite(value) == (
        {"a": [1.0, None, [None, "x"]], "b": {"c": None}, "d": 2},
        ["NaN at a[1]", "Infinity at a[2][0]", "-Infinity at b.c"],
    )
    same = {"a": [1.0]}
    assert finite(same) == (same, [])
