"""``body.json_object``: what json.loads reads, with deepaas-lite's refusals, by either
decoder (the C one, or the stepwise one used in a thread for large bodies)."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from deepaas_lite import exceptions
from deepaas_lite.web import body
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
        (b'{"x": [1, -Infinity]}', "-Infinity is not JSON"),
        (b'{"x": 1e999}', "out of range"),
        (b"[1, 2]", "must be an object"),
        (b'{"x": ', "Malformed JSON body"),
        (b"\xff\xfe\xfa", "Malformed JSON body"),
    ],
)
def test_it_refuses_what_is_not_an_acceptable_object(raw: bytes, says: str, stepwise: bool) -> None:
    with pytest.raises(exceptions.MalformedBody, match=says):
        json_object(raw, stepwise)


@pytest.fixture
def orjson_reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies orjson was given (``json_object`` tries it first)."""
    given: list[bytes] = []
    loads = orjson.loads

    def counted(raw: bytes) -> Any:
        given.append(raw)
        return loads(raw)

    monkeypatch.setattr(body.orjson, "loads", counted)
    return given


def test_numbers_are_read_as_json_loads_reads_them(orjson_reads: list[bytes]) -> None:
    """Floats of every magnitude, subnormals, 17 significant digits, integers up to 19
    digits (beyond the int64 range too): the same values and types, by orjson."""
    rng = random.Random(17)
    numbers: list[Any] = [rng.uniform(-1e3, 1e3) for _ in range(2000)]
    numbers += [rng.random() * 10.0 ** rng.randint(-300, 300) for _ in range(2000)]
    numbers += [rng.randint(-(2**63), 2**63) for _ in range(500)]
    numbers += [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.1, 1 / 3]
    numbers += [9007199254740993, 9223372036854775807, -9223372036854775808]
    numbers += [9999999999999999999]  # 19 digits, over int64
    for start in range(0, len(numbers), 100):
        raw = json.dumps({"x": numbers[start : start + 100]}).encode()
        read = json_object(raw)["x"]
        expected = json.loads(raw)["x"]
        assert read == expected
        assert [type(v) for v in read] == [type(v) for v in expected]
    assert len(orjson_reads) >= 40  # most bodies (not those with a 20-digit run)


def test_integers_beyond_64_bits_stay_exact(orjson_reads: list[bytes]) -> None:
    """orjson would read them as floats: such a body goes to the standard decoder."""
    raw = b'{"id": 123456789012345678901234567890, "max": 18446744073709551616, "n": [-1]}'
    value = json_object(raw)
    assert value == {"id": 123456789012345678901234567890, "max": 2**64, "n": [-1]}
    assert isinstance(value["id"], int)
    assert orjson_reads == []


@pytest.mark.parametrize(
    "raw", [b'{"x": }', b'{"x": 1,}', b'{"x": "a\\u12"}', b'{"x": 1} [', b"", b"{'x': 1}"]
)
def test_malformed_bodies_are_refused_in_json_loads_words(raw: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as standard:
        json.loads(raw)
    with pytest.raises(exceptions.MalformedBody) as refused:
        json_object(raw)
    assert str(refused.value) == f"Malformed JSON body: {standard.value}"


def test_a_body_with_few_brackets_is_not_walked_for_its_depth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It cannot nest deeper than its brackets (in UTF-16 too, where every bracket still
    holds its byte): a long flat list costs no walk over its numbers."""
    walked: list[object] = []
    monkeypatch.setattr(body, "_deeper_than", lambda value, limit: walked.append(value))
    flat = {"inputs": [{"name": "x", "data": list(range(5000))}], "s": "[" * 90}
    for raw in (json.dumps(flat).encode(), json.dumps(flat).encode("utf-16")):
        assert json_object(raw) == flat
    assert walked == []
    many = {"rows": [[i] for i in range(MAX_JSON_DEPTH)]}
    assert json_object(json.dumps(many).encode()) == many
    assert walked == [many]
