"""Tensors of the Open Inference Protocol (KServe V2), from a model's schemas.

Each argument is a tensor: Float is ``FP64``, Int ``INT64``, Bool ``BOOL``, a string
(or an enum, a date...) ``BYTES``; ``List(x)`` is shape ``[-1]`` of x (``[n]`` with a
fixed ``Length``); a file is ``BYTES`` (its content); a nested object, a dict or
anything else is ``BYTES`` holding JSON. A scalar is shape ``[1]``.

Tensor data comes as JSON (``data``, flattened or nested) or as the binary data
extension's bytes (little-endian; ``BYTES`` elements each after a 4-byte length).
No HTTP here: ``model/inference.py`` reads whole requests, ``web/inference.py``
the bodies.
"""

from __future__ import annotations

import enum
import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from marshmallow import fields, validate

from deepaas_lite import exceptions
from deepaas_lite.model import args as model_args

FP64 = "FP64"
INT64 = "INT64"
BOOL = "BOOL"
BYTES = "BYTES"

# Fixed-size datatypes in the binary extension: struct's format of one element.
_BINARY = {
    "BOOL": "?",
    "INT8": "b",
    "INT16": "h",
    "INT32": "i",
    "INT64": "q",
    "UINT8": "B",
    "UINT16": "H",
    "UINT32": "I",
    "UINT64": "Q",
    "FP16": "e",
    "FP32": "f",
    "FP64": "d",
}


class Kind(enum.Enum):
    """What one element of a tensor is to the plugin."""

    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    TEXT = "text"  # a string marshmallow reads (a str, an enum, a date...)
    JSON = "json"  # BYTES holding JSON (a nested object, a dict, anything else)
    FILE = "file"  # BYTES: the file's content


DATATYPES = {Kind.FLOAT: FP64, Kind.INT: INT64, Kind.BOOL: BOOL}


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor: its datatype, its shape (``-1``: any length), what it holds."""

    name: str
    kind: Kind
    shape: tuple[int, ...] = (1,)
    many: bool = False  # a list argument: the tensor's elements are its items
    required: bool = False
    description: str = ""

    @property
    def datatype(self) -> str:
        return DATATYPES.get(self.kind, BYTES)

    def metadata(self) -> dict[str, Any]:
        """The V2 ``$metadata_tensor``."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


def _element_kind(field: fields.Field[Any]) -> Kind:
    if model_args.is_file_field(field):
        return Kind.FILE
    if isinstance(field, fields.Boolean):
        return Kind.BOOL
    if isinstance(field, fields.Integer):
        return Kind.INT
    if isinstance(field, fields.Number):
        return Kind.FLOAT
    if isinstance(field, fields.String | fields.DateTime | fields.Enum):
        return Kind.TEXT
    return Kind.JSON


def spec_of(name: str, field: fields.Field[Any]) -> TensorSpec:
    """The tensor of one argument (or one declared output)."""
    required, about = bool(field.required), model_args.description(field)
    if isinstance(field, fields.List):
        inner = _element_kind(field.inner)
        if inner is not Kind.JSON or model_args.is_file_field(field.inner):
            shape = (_fixed_length(field),)
            return TensorSpec(name, inner, shape, many=True, required=required, description=about)
    return TensorSpec(name, _element_kind(field), required=required, description=about)


def _fixed_length(field: fields.Field[Any]) -> int:
    for validator in field.validators:
        if isinstance(validator, validate.Length) and validator.equal is not None:
            return int(validator.equal)
    return -1


def element_count(shape: Sequence[int]) -> int:
    return math.prod(shape)


def is_shape(shape: Any) -> TypeGuard[list[int]]:
    """Whether ``shape`` is a list of sizes: integers (not booleans), none negative."""
    if not isinstance(shape, list):
        return False
    for size in shape:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return False
    return True


# --- reading tensor data ---------------------------------------------------------


def from_json(spec: TensorSpec, datatype: str, data: Any, shape: Sequence[int]) -> list[Any]:
    """The elements of JSON ``data`` for ``spec``, flattened: ``data`` is flat, or nested
    as ``shape`` says. ``InvalidInputs`` when an element is not of the tensor's type.
    A JSON tensor's element may be the JSON value itself as well as its text."""
    if not isinstance(data, list):
        raise invalid(spec.name, "'data' is not a list")
    types = set(map(type, data))
    if spec.kind is Kind.JSON or not any(issubclass(t, list) for t in types):
        flat = data
    elif _nested_as(data, shape):
        flat = _flatten(data)
        types = set(map(type, flat))
    else:
        raise invalid(spec.name, f"'data' is not nested as its shape {list(shape)} says")
    fast = _FAST.get(spec.kind)
    if fast is not None and types <= fast[0]:
        values: list[Any] = fast[1](flat)  # all of the tensor's type: no check one by one
        return values
    return [_json_element(spec, datatype, item, i) for i, item in enumerate(flat)]


# Elements that need no check one by one (``type``, not ``isinstance``: a bool is no
# number here), and how they become the plugin's values.
_FAST: dict[Kind, tuple[frozenset[type], Any]] = {
    Kind.FLOAT: (frozenset({float, int}), lambda flat: [float(item) for item in flat]),
    Kind.INT: (frozenset({int}), list),
    Kind.BOOL: (frozenset({bool}), list),
    Kind.TEXT: (frozenset({str}), list),
}


def _nested_as(data: Any, shape: Sequence[int]) -> bool:
    if not shape:
        return not isinstance(data, list)
    if not isinstance(data, list) or len(data) != shape[0]:
        return False
    return all(_nested_as(item, shape[1:]) for item in data)


def _flatten(data: list[Any]) -> list[Any]:
    out: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def _json_element(spec: TensorSpec, datatype: str, item: Any, index: int) -> Any:
    kind = spec.kind
    if kind is Kind.BOOL and isinstance(item, bool):
        return item
    if kind is Kind.INT and _is_number(item) and float(item).is_integer():
        return int(item)
    if kind is Kind.FLOAT and _is_number(item):
        return float(item)
    if kind is Kind.TEXT and isinstance(item, str):
        return item
    if kind is Kind.FILE and isinstance(item, str):
        return item.encode()
    if kind is Kind.JSON:
        return _json_text(spec, item) if isinstance(item, str) else item
    raise invalid(spec.name, f"element {index} is not {_what(kind)}: {json.dumps(item)[:40]}")


def _is_number(item: Any) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool)


def _what(kind: Kind) -> str:
    return {
        Kind.BOOL: "true or false",
        Kind.INT: "an integer",
        Kind.FLOAT: "a number",
        Kind.TEXT: "a string",
        Kind.FILE: "a string",
        Kind.JSON: "JSON",
    }[kind]


def _json_text(spec: TensorSpec, text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(spec.name, f"an element is not JSON text ({exc})") from exc


def from_binary(spec: TensorSpec, datatype: str, raw: bytes, count: int) -> list[Any]:
    """The ``count`` elements of the binary data extension's ``raw`` bytes."""
    if datatype == BYTES:
        items = _split_bytes(spec, raw)
        if len(items) != count:
            raise invalid(
                spec.name, f"{len(items)} elements in its binary data, shape says {count}"
            )
        return [_bytes_element(spec, item) for item in items]
    code = _BINARY[datatype]
    size = struct.calcsize(code)
    if len(raw) != size * count:
        raise invalid(
            spec.name, f"{len(raw)} bytes of binary data, {count} {datatype} need {size * count}"
        )
    values = list(struct.unpack(f"<{count}{code}", raw))
    return [_json_element(spec, datatype, v, i) for i, v in enumerate(values)]


def _split_bytes(spec: TensorSpec, raw: bytes) -> list[bytes]:
    items = []
    at = 0
    while at < len(raw):
        if at + 4 > len(raw):
            raise invalid(spec.name, "its binary data ends inside an element's length")
        (length,) = struct.unpack_from("<I", raw, at)
        at += 4
        if at + length > len(raw):
            raise invalid(spec.name, "its binary data ends inside an element")
        items.append(raw[at : at + length])
        at += length
    return items


def _bytes_element(spec: TensorSpec, item: bytes) -> Any:
    if spec.kind is Kind.FILE:
        return item
    if spec.kind is Kind.JSON:
        return _json_text(spec, item)
    try:
        return item.decode()
    except UnicodeDecodeError as exc:
        raise invalid(spec.name, "an element is not UTF-8 text") from exc


def invalid(name: str, problem: str) -> exceptions.InvalidInputs:
    return exceptions.InvalidInputs(f"Input '{name}': {problem}")


# --- writing tensors --------------------------------------------------------------


@dataclass(frozen=True)
class Tensor:
    """An output tensor: flattened elements (``bytes`` for a BYTES element)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: list[Any]

    def binary(self) -> bytes:
        """The binary data extension's bytes of the tensor."""
        if self.datatype == BYTES:
            return b"".join(struct.pack("<I", len(item)) + item for item in self.data)
        return struct.pack(f"<{len(self.data)}{_BINARY[self.datatype]}", *self.data)

    def json_data(self) -> list[Any] | None:
        """The elements as JSON; ``None`` when a BYTES element is not UTF-8 text."""
        if self.datatype != BYTES:
            return self.data
        try:
            return [item.decode() for item in self.data]
        except UnicodeDecodeError:
            return None


def tensor_of(name: str, value: Any) -> Tensor | None:
    """``value`` as a tensor when it is one: a number, a bool, a string, or a list
    (numpy arrays included) of them, nested rectangularly; else ``None``."""
    if type(value) is list and value:  # the common case first: a flat list of one type
        found = _flat_tensor(name, value)
        if found is not None:
            return found
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and not isinstance(value, str | bytes):
        value = tolist()
    shape: list[int] = []
    probe = value
    while isinstance(probe, list | tuple):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat = _flatten(list(value)) if isinstance(value, list) else [value]
    if element_count(shape) != len(flat) or not _rectangular(value, shape):
        return None
    datatype = _datatype_of(flat)
    if datatype is None:
        return None
    if datatype == BYTES:
        flat = [item.encode() if isinstance(item, str) else bytes(item) for item in flat]
    elif datatype == FP64:
        flat = [float(item) for item in flat]
    return Tensor(name, datatype, tuple(shape) if shape else (1,), flat)


_FLAT = {bool: BOOL, int: INT64, float: FP64, str: BYTES}


def _flat_tensor(name: str, value: list[Any]) -> Tensor | None:
    """A flat list whose items are all of one type (``type``: a bool is no int), as a
    tensor without a look at each item's kind; ``None`` otherwise."""
    kind = type(value[0])
    datatype = _FLAT.get(kind)
    if datatype is None or not all(type(item) is kind for item in value):
        return None
    if datatype == INT64 and not (min(value) >= -(2**63) and max(value) < 2**63):
        return None
    data = [item.encode() for item in value] if kind is str else list(value)
    return Tensor(name, datatype, (len(value),), data)


def _rectangular(value: Any, shape: list[int]) -> bool:
    if not shape:
        return not isinstance(value, list | tuple)
    if not isinstance(value, list | tuple) or len(value) != shape[0]:
        return False
    return all(_rectangular(item, shape[1:]) for item in value)


def _datatype_of(flat: list[Any]) -> str | None:
    kinds = {_scalar_type(item) for item in flat}
    if not flat:
        return FP64
    if len(kinds) == 1:
        return kinds.pop()
    if kinds == {INT64, FP64}:
        return FP64
    return None


def _scalar_type(item: Any) -> str | None:
    if isinstance(item, bool):
        return BOOL
    if isinstance(item, int):
        return INT64 if -(2**63) <= item < 2**63 else None
    if isinstance(item, float):
        return FP64 if math.isfinite(item) else None
    if isinstance(item, str | bytes):
        return BYTES
    return None


def json_tensor(name: str, value: Any, dumps: Any) -> Tensor:
    """One BYTES element holding ``value`` as JSON text (``dumps``: the encoder)."""
    return Tensor(name, BYTES, (1,), [dumps(value).encode()])


def stacked(name: str, items: Sequence[Tensor]) -> Tensor | None:
    """A batch's tensors as one, with a leading batch dimension; ``None`` when they
    differ in datatype or shape."""
    first = items[0]
    if any(t.datatype != first.datatype or t.shape != first.shape for t in items):
        return None
    data = [element for t in items for element in t.data]
    return Tensor(name, first.datatype, (len(items), *first.shape), data)
