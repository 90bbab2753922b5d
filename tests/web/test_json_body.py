"""``body.json_object``: what json.loads reads, with deepaas-lite's refusals, by either
decoder (the C one, or the stepwise one used in a thread for large bodies)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepaas_lite import exceptions
from deepaas_lite.web.body import MAX_JSON_DEPTH, json_object


def _nested(depth: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return {"a": value}


GOOD = [
    json.dumps({"data": [5.1, 3.5, 1.4, 0.2]}).encode(),
    '\ufeff{"name": "é"}'.encode("utf-8"),  # a BOM, as json.loads allows in bytes
    json.dumps({"name": "é"}).encode("utf-16-le"),
    json.dumps({"name": "é"}).encode("utf-32"),
    b'{"lone": "\\ud800", "deep": {"x": [[], {}]}}',
    json.dumps(_nested(MAX_JSON_DEPTH)).encode(),
]


@pytest.mark.parametrize("stepwise", [False, True])
@pytest.mark.parametrize("raw", GOOD)
def test_it_reads_what_json_loads_reads(raw: bytes, stepwise: bool) -> None:
    assert json_object(raw, stepwise) == json.loads(raw)


@pytest.mark.parametrize("stepwise", [False, True])
@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (json.dumps(_nested(MAX_JSON_DEPTH + 1)).encode(), "nested deeper"),
        (
            b'{"a": [1, [2, {"b": ' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}]]}",
            "deeper",
        ),
        (b'{"x": NaN}', "NaN is not JSON"),
        (b'{"x": 1e999}', "out of range"),
        (b"[1, 2]", "must be an object"),
        (b'{"x": ', "Malformed JSON body"),
        (b"\xff\xfe\xfa", "Malformed JSON body"),
    ],
)
def test_it_refuses_what_is_not_an_acceptable_object(raw: bytes, says: str, stepwise: bool) -> None:
    with pytest.raises(exceptions.MalformedBody, match=says):
        json_object(raw, stepwise)
