"""The tensor mapping without HTTP: argument schemas to tensors, tensor data to arguments,
outputs to tensors (model/tensors.py, model/inference.py)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, fields, validate

from deepaas_lite import exceptions
from deepaas_lite.model import tensors
from deepaas_lite.model.inference import PREDICTIONS, Signature, batch_outputs
from deepaas_lite.model.uploads import SavedFiles, UploadedFile
from deepaas_lite.model.wrapper import ModelWrapper


class Point(Schema):
    x = fields.Float(required=True)


class Plugin:
    def get_predict_args(self) -> dict[str, fields.Field]:
        return {
            "f": fields.Float(required=True),
            "i": fields.Int(),
            "b": fields.Bool(),
            "s": fields.Str(),
            "e": fields.Str(validate=validate.OneOf(["a", "b"])),
            "when": fields.DateTime(),
            "xs": fields.List(fields.Float()),
            "four": fields.List(fields.Int(), validate=validate.Length(equal=4)),
            "p": fields.Nested(Point),
            "d": fields.Dict(keys=fields.Str(), values=fields.Int()),
            "rows": fields.List(fields.List(fields.Float())),
            "file": fields.Field(metadata={"type": "file"}),
            "files": fields.List(fields.Field(metadata={"type": "file"})),
            "accept": fields.Str(validate=validate.OneOf(["application/json", "text/plain"])),
        }

    def predict(self, **kwargs: Any) -> Any:
        return kwargs


def signature() -> Signature:
    return Signature.of(ModelWrapper("every-kind", Plugin()))


def test_the_mapping_table() -> None:
    found = {t["name"]: (t["datatype"], t["shape"]) for t in signature().metadata()["inputs"]}
    assert found == {
        "f": ("FP64", [1]),
        "i": ("INT64", [1]),
        "b": ("BOOL", [1]),
        "s": ("BYTES", [1]),
        "e": ("BYTES", [1]),
        "when": ("BYTES", [1]),
        "xs": ("FP64", [-1]),
        "four": ("INT64", [4]),
        "p": ("BYTES", [1]),
        "d": ("BYTES", [1]),
        "rows": ("BYTES", [1]),  # a list of lists: JSON
        "file": ("BYTES", [1]),
        "files": ("BYTES", [-1]),
    }  # no "accept": the answer is tensors, the model's first media type


def _call(request: dict[str, Any], binary: dict[str, bytes] | None = None) -> Any:
    files = SavedFiles()
    try:
        calls, batched = signature().arguments(request, binary or {}, files.save)
        values = [v for call in calls for v in call.values()]
        values += [item for v in values if isinstance(v, list) for item in v]
        saved = [v for v in values if isinstance(v, UploadedFile)]
        return calls, batched, [Path(f.filename).read_bytes() for f in saved]
    finally:
        files.cleanup()


def _input(name: str, datatype: str, shape: list[int], data: Any) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


def test_json_data_to_arguments() -> None:
    (call,), batched, contents = _call(
        {
            "inputs": [
                _input("f", "FP64", [1], [2]),
                _input("i", "INT64", [1], [3.0]),
                _input("b", "BOOL", [1], [False]),
                _input("xs", "FP64", [2], [0.5, 1]),
                _input("p", "BYTES", [1], ['{"x": 1}']),
                _input("d", "BYTES", [1], [{"k": 2}]),  # the JSON value itself
                _input("file", "BYTES", [1], ["text content"]),
            ]
        }
    )
    assert not batched
    assert call["f"] == 2.0 and call["i"] == 3 and call["b"] is False
    assert call["xs"] == [0.5, 1.0] and call["p"] == {"x": 1.0} and call["d"] == {"k": 2}
    assert call["accept"] == "application/json"
    assert contents == [b"text content"]


def test_binary_data_to_arguments() -> None:
    raw = {
        "xs": struct.pack("<2d", 1.5, -1.0),
        "b": b"\x01",
        "i": struct.pack("<q", -7),
        "s": struct.pack("<I", 6) + "grüß".encode()[:4],  # 4 of its 6 bytes
        "files": struct.pack("<I", 2) + b"\x00\xff" + struct.pack("<I", 0),
    }
    request = {
        "inputs": [
            _input("f", "FP64", [1], [0.0]),
            {"name": "xs", "datatype": "FP64", "shape": [2]},
            {"name": "b", "datatype": "BOOL", "shape": [1]},
            {"name": "i", "datatype": "INT64", "shape": [1]},
            {"name": "files", "datatype": "BYTES", "shape": [2]},
        ]
    }
    (call,), _, contents = _call(request, raw)
    assert call["xs"] == [1.5, -1.0] and call["b"] is True and call["i"] == -7
    assert contents == [b"\x00\xff", b""]
    with pytest.raises(exceptions.InvalidInputs, match="bytes of binary data"):
        _call(request, {**raw, "xs": raw["xs"][:-1]})
    request["inputs"].append({"name": "s", "datatype": "BYTES", "shape": [1]})
    with pytest.raises(exceptions.InvalidInputs, match="ends inside an element"):
        _call(request, raw)


def test_a_leading_batch_dimension() -> None:
    calls, batched, _ = _call(
        {
            "inputs": [
                _input("f", "FP64", [3], [1, 2, 3]),
                _input("xs", "FP64", [3, 2], [[1, 2], [3, 4], [5, 6]]),  # nested as the shape
            ]
        }
    )
    assert batched and [c["f"] for c in calls] == [1.0, 2.0, 3.0]
    assert [c["xs"] for c in calls] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    with pytest.raises(exceptions.InvalidInputs, match="batch sizes"):
        _call({"inputs": [_input("f", "FP64", [2], [1, 2]), _input("i", "INT64", [3], [1, 2, 3])]})
    with pytest.raises(exceptions.InvalidInputs, match="not batched like the others"):
        _call({"inputs": [_input("f", "FP64", [2], [1, 2]), _input("i", "INT64", [1], [1])]})


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (_input("f", "FP32", [1], [1.0]), "expected FP64"),
        (_input("f", "FP64", [1], ["1"]), "not a number"),
        (_input("i", "INT64", [1], [1.5]), "not an integer"),
        (_input("f", "FP64", [], [1.0]), "shape []"),
        (_input("f", "FP64", [0], []), "shape [0]"),
        (_input("xs", "FP64", [3], [1.0]), "1 elements"),
        (_input("four", "INT64", [3], [1, 2, 3]), "Length must be 4"),
        (_input("e", "BYTES", [1], ["c"]), "Must be one of"),
        (_input("p", "BYTES", [1], ["{"]), "not JSON text"),
        (_input("f", "FP64", [1], [float("nan")]), "Special numeric values"),  # binary NaN
        (_input("xs", "FP64", [2, 2], [[1, 2, 3], [4]]), "nested"),
    ],
)
def test_invalid_inputs(item: dict[str, Any], words: str) -> None:
    inputs = [item] if item["name"] == "f" else [_input("f", "FP64", [1], [0.0]), item]
    with pytest.raises(exceptions.InvalidInputs, match=words.replace("[", r"\[")):
        _call({"inputs": inputs})


def test_outputs_from_a_dict_of_tensors() -> None:
    found = signature().tensors({"a": [[1, 2], [3, 4]], "b": True, "c": "x", "d": [0.5, 1]})
    assert [(t.name, t.datatype, t.shape, t.data) for t in found] == [
        ("a", "INT64", (2, 2), [1, 2, 3, 4]),
        ("b", "BOOL", (1,), [True]),
        ("c", "BYTES", (1,), [b"x"]),
        ("d", "FP64", (2,), [0.5, 1.0]),
    ]


@pytest.mark.parametrize(
    "output", [{"a": {"nested": 1}}, {"a": [1, [2]]}, {"a": [1, "x"]}, [1, 2], "text", None]
)
def test_other_outputs_are_one_json_tensor(output: Any) -> None:
    (found,) = signature().tensors(output)
    assert found.name == PREDICTIONS and found.datatype == "BYTES" and found.shape == (1,)
    assert json.loads(found.data[0]) == output


def test_numpy_like_outputs() -> None:
    class Array:
        def tolist(self) -> Any:
            return [[1.0, 2.0]]

    (found,) = signature().tensors({"scores": Array()})
    assert found.shape == (1, 2) and found.datatype == "FP64"


def test_outputs_from_the_plugin_schema() -> None:
    class Out(Schema):
        label = fields.Str()
        score = fields.Float()
        extra = fields.Dict()

    class WithSchema(Plugin):
        schema = Out

    sig = Signature.of(ModelWrapper("with-schema", WithSchema()))
    assert sig.metadata()["outputs"] == [
        {"name": "label", "datatype": "BYTES", "shape": [1]},
        {"name": "score", "datatype": "FP64", "shape": [1]},
        {"name": "extra", "datatype": "BYTES", "shape": [1]},
    ]
    found = sig.tensors({"label": "cat", "score": 1, "extra": {"a": 1}})
    assert [(t.name, t.datatype, t.data) for t in found] == [
        ("label", "BYTES", [b"cat"]),
        ("score", "FP64", [1.0]),  # an int for a Float is an FP64
        ("extra", "BYTES", [b'{"a": 1}']),
    ]


def test_outputs_from_the_predict_example() -> None:
    class WithExample(Plugin):
        predict_example = {"labels": [0]}

    sig = Signature.of(ModelWrapper("with-example", WithExample()))
    assert sig.metadata()["outputs"] == [{"name": "labels", "datatype": "INT64", "shape": [-1]}]
    assert Signature.of(ModelWrapper("no-example", Plugin())).outputs is None


def test_batch_outputs() -> None:
    sig = signature()
    rows = [sig.tensors({"a": [1, 2], "b": "x"}), sig.tensors({"a": [3], "b": "y"})]
    a, b = batch_outputs(rows)
    assert (a.datatype, a.shape) == ("BYTES", (2,))  # rows of different lengths: JSON
    assert [json.loads(item) for item in a.data] == [[1, 2], [3]]
    assert (b.datatype, b.shape, b.data) == ("BYTES", (2, 1), [b"x", b"y"])


def test_binary_and_json_forms_of_a_tensor() -> None:
    numbers = tensors.Tensor("n", "FP64", (2,), [1.0, 2.5])
    assert numbers.binary() == struct.pack("<2d", 1.0, 2.5) and numbers.json_data() == [1.0, 2.5]
    raw = tensors.Tensor("r", "BYTES", (1,), [b"\xff"])
    assert raw.binary() == b"\x01\x00\x00\x00\xff" and raw.json_data() is None
