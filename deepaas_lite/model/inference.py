"""An Open Inference Protocol (KServe V2) request as plugin calls, their outputs as tensors.

``Signature`` is a model's inputs and outputs (``model/tensors.py``), worked out once.
``Signature.arguments`` reads a ``$inference_request`` into the keyword arguments of
one call, or of one call per row when the inputs carry a leading batch dimension.
``Signature.tensors`` makes a call's output tensors: the fields of the plugin's
``schema``; else the keys of a dict whose values are all tensors; else one ``BYTES``
tensor, ``predictions``, holding the output as JSON. No HTTP here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, ValidationError

from deepaas_lite import exceptions
from deepaas_lite.model import args as model_args
from deepaas_lite.model import tensors
from deepaas_lite.model.output import dumps
from deepaas_lite.model.tensors import Kind, Tensor, TensorSpec
from deepaas_lite.model.wrapper import ModelWrapper

PREDICTIONS = "predictions"
"""The one output of a model whose output is not a dict of tensors."""

REQUEST_KEYS = ("id", "parameters", "inputs", "outputs")
INPUT_KEYS = ("name", "shape", "datatype", "parameters", "data")
OUTPUT_KEYS = ("name", "parameters")

SaveFile = Callable[[str, bytes, Mapping[str, Any]], Any]
"""``(input name, content, the input's parameters)`` -> what the plugin gets for a file."""


@dataclass(frozen=True)
class Signature:
    """A model's V2 inputs and (when known before a call) outputs."""

    model: ModelWrapper
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...] | None  # None: known from each output only
    version: str | None = None  # the plugin's own version (its metadata's)

    @classmethod
    def of(cls, model: ModelWrapper) -> Signature:
        inputs = [
            tensors.spec_of(model_args.data_key(name, field), field)
            for name, field in model.predict_schema.fields.items()
            if not field.dump_only and name != model_args.ACCEPT
        ]
        version = model.metadata().get("version")
        version = None if version is None else str(version)
        return cls(model, tuple(inputs), _declared_outputs(model), version)

    def metadata(self) -> dict[str, Any]:
        """The V2 model metadata's ``inputs`` and ``outputs``."""
        return {
            "inputs": [spec.metadata() for spec in self.inputs],
            "outputs": [spec.metadata() for spec in self.outputs or ()],
        }

    def arguments(
        self, request: Mapping[str, Any], binary: Mapping[str, bytes], save: SaveFile
    ) -> tuple[list[dict[str, Any]], bool]:
        """The validated keyword arguments of each call, and whether the request is a
        batch (a leading batch dimension on its inputs: one call per row).

        ``binary`` holds the binary data of the inputs sent so; ``save`` stores a file.
        Raises ``InvalidInputs``.
        """
        only(request, REQUEST_KEYS, "The request")
        inputs = request.get("inputs")
        if not isinstance(inputs, list):
            raise exceptions.InvalidInputs("The request has no 'inputs' list")
        if not isinstance(request.get("id", ""), str):
            raise exceptions.InvalidInputs("The request's 'id' is not a string")
        if not isinstance(request.get("parameters", {}), Mapping):
            raise exceptions.InvalidInputs("The request's 'parameters' is not an object")
        by_name = {spec.name: spec for spec in self.inputs}
        rows: dict[str, list[Any]] = {}
        batch: int | None = None
        batched = False
        for item in inputs:
            spec, values, size = self._read(item, by_name, binary, save)
            if spec.name in rows:
                raise tensors.invalid(spec.name, "sent twice")
            if size is not None:
                if batch is not None and size != batch:
                    raise exceptions.InvalidInputs(
                        f"Inputs have different batch sizes ({batch} and {size})"
                    )
                batch, batched = size, True
            rows[spec.name] = values
        count = batch if batched and batch is not None else 1
        for name, values in rows.items():
            if not batched:
                rows[name] = [values[0]]
            elif len(values) != count:
                raise exceptions.InvalidInputs(
                    f"Input '{name}' is not batched like the others ({count} rows)"
                )
        calls = [self._load({n: v[i] for n, v in rows.items()}, i) for i in range(count)]
        return calls, batched

    def _read(
        self,
        item: Any,
        by_name: Mapping[str, TensorSpec],
        binary: Mapping[str, bytes],
        save: SaveFile,
    ) -> tuple[TensorSpec, list[Any], int | None]:
        """One input's values: one per row (the batch size, or ``None`` unbatched)."""
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise exceptions.InvalidInputs("Each input is an object with a 'name'")
        only(item, INPUT_KEYS, f"Input '{item['name']}'")
        spec = by_name.get(item["name"])
        if spec is None:
            known = ", ".join(by_name) or "none"
            raise exceptions.InvalidInputs(
                f"Model '{self.model.id}' has no input '{item['name']}' (its inputs: {known})"
            )
        datatype, shape = item.get("datatype"), item.get("shape")
        parameters = item.get("parameters", {})
        if not isinstance(parameters, Mapping):
            raise tensors.invalid(spec.name, "'parameters' is not an object")
        if datatype != spec.datatype:
            raise tensors.invalid(spec.name, f"datatype {datatype!r}, expected {spec.datatype}")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise tensors.invalid(spec.name, "'shape' is not a list of sizes")
        count = tensors.element_count(shape)
        if spec.name in binary:
            elements = tensors.from_binary(spec, datatype, binary[spec.name], count)
        elif "data" in item:
            elements = tensors.from_json(spec, datatype, item["data"], shape)
        else:
            raise tensors.invalid(spec.name, "no 'data' and no binary data")
        if len(elements) != count:
            raise tensors.invalid(
                spec.name, f"{len(elements)} elements, shape {shape} says {count}"
            )
        size = _batch_size(spec, shape)
        if spec.kind is Kind.FILE:
            elements = [save(spec.name, content, parameters) for content in elements]
        per_row = [elements] if size is None else _rows(elements, size)
        return spec, [_value(spec, row) for row in per_row], size

    def _load(self, values: Mapping[str, Any], row: int) -> dict[str, Any]:
        data = dict(values)
        choices = self.model.accept_choices
        if choices:
            data[model_args.ACCEPT] = choices[0]
        try:
            return dict(self.model.predict_schema.load(data, unknown=RAISE))
        except ValidationError as exc:
            where = f" (row {row})" if row else ""
            raise exceptions.InvalidInputs(f"Invalid inputs{where}: {_messages(exc)}") from exc

    def tensors(self, output: Any) -> list[Tensor]:
        """One call's output as tensors."""
        if self.model.response_schema is not None and isinstance(output, Mapping):
            declared = self.outputs or ()
            return [_declared(spec, output[spec.name]) for spec in declared if spec.name in output]
        if isinstance(output, Mapping) and output:
            found = [tensors.tensor_of(str(key), value) for key, value in output.items()]
            if all(t is not None for t in found):
                return [t for t in found if t is not None]
        if isinstance(output, bytes | bytearray):
            return [Tensor(PREDICTIONS, tensors.BYTES, (1,), [bytes(output)])]
        return [tensors.json_tensor(PREDICTIONS, output, dumps)]


def only(value: Mapping[str, Any], keys: Sequence[str], what: str) -> None:
    """``InvalidInputs`` naming the keys of ``value`` the protocol does not define."""
    unknown = [key for key in value if key not in keys]
    if unknown:
        raise exceptions.InvalidInputs(
            f"{what} has keys the protocol does not define: {', '.join(map(repr, unknown))}"
        )


def batch_outputs(per_call: Sequence[list[Tensor]]) -> list[Tensor]:
    """The outputs of a batch's calls, each with a leading batch dimension; an output
    whose rows differ in shape or datatype is a BYTES tensor of each row's JSON."""
    names: list[str] = []
    for outputs in per_call:
        names.extend(t.name for t in outputs if t.name not in names)
    out = []
    for name in names:
        rows = [next((t for t in outputs if t.name == name), None) for outputs in per_call]
        present = [t for t in rows if t is not None]
        joined = tensors.stacked(name, present) if len(present) == len(rows) else None
        if joined is None:
            data = [dumps(None if t is None else _as_json(t)).encode() for t in rows]
            joined = Tensor(name, tensors.BYTES, (len(rows),), data)
        out.append(joined)
    return out


def _as_json(tensor: Tensor) -> Any:
    data = tensor.json_data()
    if tensor.datatype == tensors.BYTES and data is not None and tensor.shape == (1,):
        return data[0]
    return data


def _declared(spec: TensorSpec, value: Any) -> Tensor:
    if spec.kind is not Kind.JSON:
        found = tensors.tensor_of(spec.name, value)
        if found is not None and (found.datatype == spec.datatype or spec.kind is Kind.FLOAT):
            if spec.kind is Kind.FLOAT and found.datatype == tensors.INT64:
                found = Tensor(spec.name, tensors.FP64, found.shape, [float(v) for v in found.data])
            if found.datatype == spec.datatype:
                return found
    return tensors.json_tensor(spec.name, value, dumps)


def _declared_outputs(model: ModelWrapper) -> tuple[TensorSpec, ...] | None:
    """From the plugin's ``schema``; else from its ``predict_example`` (lengths made
    variable); else ``None``: each output says."""
    if model.response_schema is not None:
        return tuple(
            tensors.spec_of(model_args.data_key(name, field), field)
            for name, field in model.response_schema.fields.items()
            if not field.load_only
        )
    example = model.predict_example
    if example is None:
        return None
    found = Signature(model, (), None).tensors(example)
    return tuple(
        TensorSpec(
            t.name,
            _kind_of(t.datatype),
            tuple(-1 if t.name != PREDICTIONS else 1 for _ in t.shape),
        )
        for t in found
    )


def _kind_of(datatype: str) -> Kind:
    kinds = {tensors.FP64: Kind.FLOAT, tensors.INT64: Kind.INT, tensors.BOOL: Kind.BOOL}
    return kinds.get(datatype, Kind.JSON)


def _batch_size(spec: TensorSpec, shape: list[int]) -> int | None:
    """The leading batch dimension of ``shape``, ``None`` when it has none.

    A scalar is ``[1]`` (``[n]`` or ``[n, 1]``: a batch of n); a list is ``[k]``
    (``[n, k]``: a batch of n lists of k); a JSON tensor is ``[1]`` (``[n]``: n rows).
    """
    if shape == [1] or (spec.many and len(shape) == 1):
        return None
    scalars = not spec.many and (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1))
    if (scalars or (spec.many and len(shape) == 2)) and shape[0] > 0:
        return shape[0]
    raise tensors.invalid(spec.name, f"shape {shape} does not fit {list(spec.shape)}")


def _rows(elements: list[Any], size: int) -> list[list[Any]]:
    if size == 0:
        return []
    step = len(elements) // size
    return [elements[i * step : (i + 1) * step] for i in range(size)]


def _value(spec: TensorSpec, row: list[Any]) -> Any:
    """A row's elements as the argument's value: the list, or its one element."""
    if spec.many:
        return row
    if len(row) != 1:
        raise tensors.invalid(spec.name, f"{len(row)} elements where one is expected")
    return row[0]


def _messages(error: ValidationError) -> str:
    messages = error.messages
    if isinstance(messages, Mapping):
        return "; ".join(f"{key}: {_text(value)}" for key, value in messages.items())
    return _text(messages)


def _text(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return json.dumps(value, sort_keys=True, default=str)
