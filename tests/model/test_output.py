"""``encode``: the answers' JSON bytes (orjson) say what ``dumps`` says, and refuse what
it refuses, with the same errors."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from deepaas_lite import exceptions
from deepaas_lite.model.output import dumps, encode

Point = namedtuple("Point", "x y")


class Score(float):
    """A float subclass that is not numpy's: orjson leaves it to the standard encoder."""


@dataclasses.dataclass
class Box:
    width: int


OUTPUTS = [
    {"status": "OK", "predictions": {"labels": [0], "probabilities": [[0.97, 0.02, 0.01]]}},
    [1, 2.5, "é", None, True, False, {"nested": [[], {}]}],
    (1, (2, 3)),
    {"array": np.arange(6, dtype=np.float64).reshape(2, 3), "int": np.int64(7)},
    {"scalar": np.float32(0.5), "flags": np.array([True, False]), "big": np.float64(1e300)},
    {"non_contiguous": np.arange(12).reshape(3, 4)[:, ::2]},
    {0: "setosa", 1: "versicolor"},  # keys that are not strings
    {"huge": 2**70, "negative": -(2**65)},  # integers over 64 bits
    {"point": Point(1, 2)},
    {"score": Score(0.25)},
    {"nothing": None, "text": "NaN and null are words here"},
    1e-7,
    -0.0,
]


@pytest.mark.parametrize("value", OUTPUTS, ids=range(len(OUTPUTS)))
def test_encode_says_what_dumps_says(value: Any) -> None:
    data = encode(value)
    assert isinstance(data, bytes)
    assert json.loads(data) == json.loads(dumps(value))


def test_encode_is_compact_and_keeps_utf8() -> None:
    assert encode({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()
    # Also what orjson hands to the standard encoder (a key that is not a string).
    assert encode({1: "é", "big": 2**70}) == '{"1":"é","big":1180591620717411303424}'.encode()


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"scores": [0.5, math.nan]}, "NaN at scores[1]"),
        ({"a": {"b": [{"c": 1.0}, {"c": -math.inf}]}}, "-Infinity at a.b[1].c"),
        ({"values": np.array([1.0, 2.0, np.inf])}, "Infinity at values[2]"),
        ({"x": np.float64("nan")}, "NaN at x"),
        ({"x": np.array([[1.0], [np.nan]], dtype=np.float32)}, "NaN at x[1][0]"),
        (math.nan, "NaN at the top level"),
        ({"keys": {1: math.nan}}, "NaN at keys.1"),  # through the standard encoder
    ],
)
def test_encode_refuses_nan_and_infinity_naming_the_place(value: Any, where: str) -> None:
    with pytest.raises(exceptions.InvalidResponse) as raised:
        encode(value)
    assert str(raised.value) == f"Output is not valid JSON: {where}"
    with pytest.raises(exceptions.InvalidResponse) as by_dumps:
        dumps(value)
    assert str(by_dumps.value) == str(raised.value)


@pytest.mark.parametrize(
    "value",
    [{"when": datetime.datetime(2026, 12, 3)}, {"box": Box(3)}, {"raw": object()}],
    ids=["datetime", "dataclass", "object"],
)
def test_encode_refuses_what_dumps_refuses(value: Any) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable"):
        dumps(value)
    with pytest.raises(TypeError, match="is not JSON serializable"):
        encode(value)


@pytest.mark.parametrize("write", [dumps, encode], ids=["dumps", "encode"])
def test_a_circular_value_still_says_circular(write: Callable[[Any], object]) -> None:
    loop: list[Any] = [1.0]
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        write(loop)


def test_encode_writes_numpy_float32_at_its_own_precision() -> None:
    """A float32 is written as its shortest text (0.1, where ``dumps`` writes the float64
    0.10000000149011612); read back as a float32, it is the same number."""
    values = np.array([0.1, 1 / 3, 3.4028235e38, -1.5e-45], dtype=np.float32)
    sent = json.loads(encode({"scores": values, "one": values[0]}))
    assert sent["one"] == 0.1
    assert np.array_equal(np.array(sent["scores"], dtype=np.float32), values)
    assert np.float32(sent["one"]) == values[0]
