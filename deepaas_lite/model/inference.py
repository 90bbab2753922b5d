"""An Open Inference Protocol (KServe V2) request as plugin calls, their outputs as tensors.

``Signature`` is a model's inputs and outputs (``model/tensors.py``), worked out once.
``Signature.read`` reads a ``$inference_request`` into an ``Inference``: the keyword
arguments of one call, or of one call per row when the inputs carry a leading batch
dimension (``Signature.arguments``), and the outputs asked for. ``Signature.tensors``
makes a call's output tensors: the fields of the plugin's ``schema``; else the keys of
a dict whose values are all tensors; else one ``BYTES`` tensor, ``predictions``,
holding the output as JSON. ``Signature.answer`` makes the ``$inference_response`` of
the calls' outputs. An ``Inference`` run later, as a prediction job, is kept as plain
arguments (``Inference.job_args``, ``Inference.of_job``). No HTTP here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from marshmallow import RAISE, ValidationError

from deepaas_lite import exceptions
from deepaas_lite.model import args as model_args
from deepaas_lite.model import tensors
from deepaas_lite.model.output import dumps, raw_bytes
from deepaas_lite.model.tensors import Kind, Tensor, TensorSpec
from deepaas_lite.model.wrapper import ModelWrapper

PREDICTIONS = "predictions"
"""The one output of a model whose output is not a dict of tensors."""

REQUEST_KEYS = frozenset({"id", "parameters", "inputs", "outputs"})
INPUT_KEYS = frozenset({"name", "shape", "datatype", "parameters", "data"})
OUTPUT_KEYS = frozenset({"name", "parameters"})

JSON = "application/json"

SaveFile = Callable[[str, bytes, Mapping[str, Any]], Any]
"""``(input name, content, the input's parameters)`` -> what the plugin gets for a file."""


class Inference(NamedTuple):  # (a tuple: made on every request, the fastest to make)
    """A read ``$inference_request``: the plugin's ``calls`` (one, or one per row when
    ``batched``), the answer's ``id``, and the outputs asked for (``None``: all), each
    by name with whether it is sent as binary data (``binary``: all of them so)."""

    calls: list[dict[str, Any]]
    batched: bool
    id: str
    outputs: tuple[tuple[str, bool], ...] | None = None
    binary: bool = False

    def job_args(self) -> dict[str, Any]:
        """As a prediction job keeps it (its record shows it): its answer is JSON, so
        the outputs asked for are kept by name only."""
        args: dict[str, Any] = {"id": self.id, "calls": self.calls, "batched": self.batched}
        if self.outputs is not None:
            args["outputs"] = [name for name, _ in self.outputs]
        return args

    @classmethod
    def of_job(cls, args: Mapping[str, Any]) -> Inference:
        """The inference a job's ``job_args`` hold (every output as JSON)."""
        asked = args.get("outputs")
        outputs = None if asked is None else tuple((str(name), False) for name in asked)
        return cls(list(args["calls"]), bool(args["batched"]), str(args["id"]), outputs)


class Answer(NamedTuple):
    """An ``$inference_response``: its JSON, and the bytes of the outputs sent as binary
    data, in order (each output's ``binary_data_size`` in the JSON)."""

    header: dict[str, Any]
    blobs: list[bytes]


@dataclass(frozen=True)
class Signature:
    """A model's V2 inputs and (when known before a call) outputs.

    What every request would otherwise look up again is worked out here, once: the
    inputs by name, the ``accept`` argument a call gets, whether outputs are answered
    as raw bytes, the names a request may ask for.
    """

    model: ModelWrapper
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...] | None  # None: known from each output only
    version: str | None = None  # the plugin's own version (its metadata's)
    by_name: Mapping[str, TensorSpec] = field(init=False, repr=False, compare=False)
    accept: str | None = field(init=False, repr=False, compare=False)
    raw: bool = field(init=False, repr=False, compare=False)  # first media type not JSON
    asked_names: Set[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        choices = self.model.accept_choices
        declared = self.outputs if self.model.response_schema is not None else None
        for name, value in (
            ("by_name", {spec.name: spec for spec in self.inputs}),
            ("accept", choices[0] if choices else None),
            ("raw", bool(choices) and choices[0] != JSON),
            ("asked_names", None if declared is None else {spec.name for spec in declared}),
        ):
            object.__setattr__(self, name, value)

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

    def versions(self) -> list[str]:
        """The versions a client may name: what the model serves now, the model store's
        version (a training's uuid) when it has one, then the plugin's own ``version``."""
        served = [self.model.version, self.version]
        return [v for i, v in enumerate(served) if v is not None and v not in served[:i]]

    def read(
        self,
        request: Mapping[str, Any],
        binary: Mapping[str, bytes],
        save: SaveFile,
        default_id: str = "",
    ) -> Inference:
        """The ``$inference_request`` ``request`` as an ``Inference``, validated (see
        ``arguments``); its ``id``, or ``default_id``. Raises ``InvalidInputs``."""
        calls, batched = self.arguments(request, binary, save)
        request_id = request.get("id")
        parameters = request.get("parameters")
        every = isinstance(parameters, Mapping) and parameters.get("binary_data_output") is True
        return Inference(
            calls,
            batched,
            request_id if isinstance(request_id, str) else default_id,
            self._asked(request["outputs"], every) if "outputs" in request else None,
            every,
        )

    def _asked(self, asked: Any, every: bool) -> tuple[tuple[str, bool], ...]:
        """The outputs a request's ``outputs`` asks for, each with whether it is sent as
        binary data; with a ``schema``, only its fields may be asked for."""
        if not isinstance(asked, list):
            raise exceptions.InvalidInputs("'outputs' is not a list")
        declared = self.asked_names
        out = []
        for item in asked:
            name = item.get("name") if isinstance(item, Mapping) else None
            if isinstance(item, Mapping):
                only(item, OUTPUT_KEYS, "Output {!r}", name)
            if not isinstance(name, str):
                raise exceptions.InvalidInputs(
                    f"No output {name!r}: an output is named by a string"
                )
            if declared is not None and name not in declared:
                raise _no_output(name, [spec.name for spec in self.outputs or ()])
            own = item.get("parameters")
            binary = own.get("binary_data") if isinstance(own, Mapping) else None
            out.append((name, every if binary is None else binary is True))
        return tuple(out)

    def answer(self, inference: Inference, outputs: Sequence[Any]) -> Answer:
        """The ``$inference_response`` of ``inference``'s calls' ``outputs`` (one a call,
        in order): its outputs as asked for; a BYTES output whose elements are not UTF-8
        text is sent as binary data even when not asked so. Raises ``InvalidInputs``
        for an output asked for that the calls did not make, and what checking an
        output against the plugin's ``schema`` raises."""
        if inference.batched:
            made = batch_outputs([self.tensors(self._checked(output)) for output in outputs])
        else:
            made = self.tensors(self._checked(outputs[0]))
        described, blobs = [], []
        for tensor, binary in _selected(inference, made):
            entry: dict[str, Any] = {
                "name": tensor.name,
                "datatype": tensor.datatype,
                "shape": list(tensor.shape),
            }
            data = None if binary else tensor.json_data()
            if data is None:  # asked for as binary, or BYTES that are not UTF-8 text
                blob = tensor.binary()
                entry["parameters"] = {"binary_data_size": len(blob)}
                blobs.append(blob)
            else:
                entry["data"] = data
            described.append(entry)
        header: dict[str, Any] = {"model_name": self.model.id}
        served = self.model.version
        version = self.version if served is None else served  # versions()[0]
        if version is not None:
            header["model_version"] = version
        header["id"] = inference.id
        header["outputs"] = described
        return Answer(header, blobs)

    def _checked(self, output: Any) -> Any:
        """The output as ``/predict`` answers it: checked against the plugin's ``schema``;
        the bytes of a model whose first media type is not JSON."""
        if self.raw:
            return raw_bytes(output)
        return self.model.validate_output(output)

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
        rows: dict[str, list[Any]] = {}
        batch: int | None = None
        for item in inputs:
            spec, values, size = self._read(item, binary, save)
            if spec.name in rows:
                raise tensors.invalid(spec.name, "sent twice")
            if size is not None:
                if batch is not None and size != batch:
                    raise exceptions.InvalidInputs(
                        f"Inputs have different batch sizes ({batch} and {size})"
                    )
                batch = size
            rows[spec.name] = values
        if batch is None:  # one value an input: one call
            return [self._load({name: values[0] for name, values in rows.items()}, 0)], False
        for name, values in rows.items():
            if len(values) != batch:
                raise exceptions.InvalidInputs(
                    f"Input '{name}' is not batched like the others ({batch} rows)"
                )
        return [self._load({n: v[i] for n, v in rows.items()}, i) for i in range(batch)], True

    def _read(
        self, item: Any, binary: Mapping[str, bytes], save: SaveFile
    ) -> tuple[TensorSpec, list[Any], int | None]:
        """One input's values: one per row (the batch size, or ``None`` unbatched)."""
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise exceptions.InvalidInputs("Each input is an object with a 'name'")
        name = item["name"]
        only(item, INPUT_KEYS, "Input '{}'", name)
        spec = self.by_name.get(name)
        if spec is None:
            known = ", ".join(self.by_name) or "none"
            raise exceptions.InvalidInputs(
                f"Model '{self.model.id}' has no input '{name}' (its inputs: {known})"
            )
        datatype, shape = item.get("datatype"), item.get("shape")
        parameters = item.get("parameters", {})
        if not isinstance(parameters, Mapping):
            raise tensors.invalid(name, "'parameters' is not an object")
        if datatype != spec.datatype:
            raise tensors.invalid(name, f"datatype {datatype!r}, expected {spec.datatype}")
        if not tensors.is_shape(shape):
            raise tensors.invalid(name, "'shape' is not a list of sizes")
        count = tensors.element_count(shape)
        if name in binary:
            elements = tensors.from_binary(spec, datatype, binary[name], count)
        elif "data" in item:
            elements = tensors.from_json(spec, datatype, item["data"], shape)
        else:
            raise tensors.invalid(name, "no 'data' and no binary data")
        if len(elements) != count:
            raise tensors.invalid(name, f"{len(elements)} elements, shape {shape} says {count}")
        size = _batch_size(spec, shape)
        if spec.kind is Kind.FILE:
            elements = [save(name, content, parameters) for content in elements]
        if size is None:
            return spec, [_value(spec, elements)], None
        return spec, [_value(spec, row) for row in _rows(elements, size)], size

    def _load(self, data: dict[str, Any], row: int) -> dict[str, Any]:
        """One call's arguments (``data``, the inputs' values) through the predict schema."""
        if self.accept is not None:
            data[model_args.ACCEPT] = self.accept
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


def only(value: Mapping[str, Any], keys: Set[str], what: str, *name: Any) -> None:
    """``InvalidInputs`` naming the keys of ``value`` the protocol does not define;
    ``what`` says whose keys they are (a template of ``name``, filled in only then)."""
    if value.keys() <= keys:
        return
    unknown = [key for key in value if key not in keys]
    whose = what.format(*name) if name else what
    raise exceptions.InvalidInputs(
        f"{whose} has keys the protocol does not define: {', '.join(map(repr, unknown))}"
    )


def _selected(inference: Inference, made: list[Tensor]) -> list[tuple[Tensor, bool]]:
    """The outputs ``inference`` asks for (all by default), each with whether it is
    sent as binary data."""
    if inference.outputs is None:
        return [(tensor, inference.binary) for tensor in made]
    by_name = {tensor.name: tensor for tensor in made}
    missing = [name for name, _ in inference.outputs if name not in by_name]
    if missing:
        raise _no_output(missing[0], list(by_name))
    return [(by_name[name], binary) for name, binary in inference.outputs]


def _no_output(name: str, known: list[str]) -> exceptions.InvalidInputs:
    return exceptions.InvalidInputs(
        f"No output {name!r} (the outputs: {', '.join(known) or 'none'})"
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
