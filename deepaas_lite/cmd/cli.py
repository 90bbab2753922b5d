"""``deepaas-cli``: run a plugin without a server, options from its argument schemas.

deepaas-cli --model-name iris-deepaas train --C 2.0
deepaas-cli --model-name iris-deepaas predict --data 5.1 --data 3.5 --data 1.4 --data 0.2
deepaas-cli --model-name iris-deepaas get_metadata
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, ValidationError, fields

from deepaas_lite import exceptions
from deepaas_lite.model import args as model_args
from deepaas_lite.model import loading
from deepaas_lite.model.uploads import UploadedFile
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.web.responses import dumps


def _add_schema_options(parser: argparse.ArgumentParser, schema: Schema) -> None:
    for name, field in schema.fields.items():
        key = model_args.data_key(name, field)
        help_text = model_args.description(field) or None
        if model_args.is_file_field(field):
            parser.add_argument(f"--{key}", dest=key, metavar="PATH", help=help_text)
        elif isinstance(field, fields.List | fields.Tuple):
            parser.add_argument(f"--{key}", dest=key, action="append", help=help_text)
        else:
            parser.add_argument(f"--{key}", dest=key, help=help_text)


def _as_upload(name: str, path: str) -> UploadedFile:
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return UploadedFile(name, os.path.abspath(path), content_type, os.path.basename(path))


def _load(schema: Schema, namespace: argparse.Namespace) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, field in schema.fields.items():
        key = model_args.data_key(name, field)
        value = getattr(namespace, key, None)
        if value is None:
            continue
        raw[key] = _as_upload(key, value) if model_args.is_file_field(field) else value
    try:
        loaded: dict[str, Any] = schema.load(raw)
    except ValidationError as exc:
        messages: Any = exc.messages
        raise exceptions.InvalidArguments(messages) from exc
    return loaded


def _parser(model: ModelWrapper | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepaas-cli", description="Run a deepaas-lite model without a server."
    )
    parser.add_argument("--model-name", required=True, help="The model's entry-point name")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("get_metadata", help="Print the model's metadata")
    predict = commands.add_parser("predict", help="Run predict and print its output")
    train = commands.add_parser("train", help="Run train and print its output")
    if model is not None:
        _add_schema_options(predict, model.predict_schema)
        _add_schema_options(train, model.train_schema)
    return parser


def run(argv: Sequence[str]) -> Any:
    """Parse ``argv``, run the command, return its JSON-serialisable output."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--model-name")
    known, _ = first.parse_known_args(argv)
    model = None
    if known.model_name:
        model = loading.load_model(known.model_name)
    namespace = _parser(model).parse_args(argv)
    assert model is not None  # --model-name is required by the parser
    if namespace.command == "get_metadata":
        return {"id": model.id, **model.metadata()}
    if namespace.command == "train":
        return model.train(_load(model.train_schema, namespace))
    model.warm()
    return model.validate_output(model.predict(_load(model.predict_schema, namespace)))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        output = run(sys.argv[1:] if argv is None else argv)
    except exceptions.InvalidArguments as exc:
        print(
            dumps({"code": 422, "message": exc.message, "errors": exc.errors}),
            file=sys.stderr,
        )
        return 2
    except exceptions.DeepaasError as exc:
        print(f"deepaas-cli: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"deepaas-cli: the model failed: {exc}", file=sys.stderr)
        return 1
    if isinstance(output, bytes):
        sys.stdout.buffer.write(output)
    else:
        print(dumps(output) if not isinstance(output, str) else json.dumps(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
