"""``deepaas-cli``: run a plugin without a server, options from its argument schemas.

deepaas-cli --model-name iris-deepaas train --C 2.0
deepaas-cli --model-name iris-deepaas predict --data 5.1 --data 3.5 --data 1.4 --data 0.2
deepaas-cli --model-name iris-deepaas --input-json args.json --output out.json predict
deepaas-cli --model-name iris-deepaas schema predict
deepaas-cli --plugin my_model.py predict --x 1

deepaas-cli's own options go before the command, the model's arguments after it, so
that no argument of a model is ever taken for one of deepaas-cli's (options are never
abbreviated either). Only what a call needs is imported: no web or OpenAPI code, except
the OpenAPI conversion for ``schema``.
"""

from __future__ import annotations

import argparse
import io
import json
import shlex
import sys
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs

from deepaas_lite import exceptions
from deepaas_lite.cmd import schema_arguments
from deepaas_lite.model import args as model_args
from deepaas_lite.model import loading, plugin_files, progress
from deepaas_lite.model import store as model_store
from deepaas_lite.model.output import dumps
from deepaas_lite.model.wrapper import ModelWrapper

JSON = "application/json"
# deepaas-run's default --state-dir (config/trainings.py), without importing oslo.config.
DEFAULT_STATE_DIR = platformdirs.user_data_dir("deepaas-lite")

_EPILOG = (
    "deepaas-cli's options go before the command, the model's arguments after it. "
    "See a command's arguments with: deepaas-cli --model-name NAME predict --help. "
    "Start a new plugin package with: deepaas-cli new NAME"
)


def _parser(model: ModelWrapper | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepaas-cli",
        description="Run a deepaas-lite model without a server.",
        epilog=_EPILOG,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--model-name",
        required=model is None,
        help="The model's entry-point name, or a --plugin's id (default: the only --plugin).",
    )
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="[ID=]PATH[:OBJECT]",
        help="Run the plugin in this Python file, with no packaging (as deepaas-run "
        "--plugin does); repeat it for several, and pick one with --model-name.",
    )
    parser.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        help="The state directory whose model store train writes a new version to (made "
        "current when it ends well) and predict reads the current version from, as "
        "deepaas-run's (default: %(default)s).",
    )
    parser.add_argument(
        "--input-json",
        metavar="FILE",
        help="Read the arguments from this JSON object ('-' reads standard input); "
        "files are given as paths. Options after the command override its keys.",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="Write the output to FILE instead of standard output (JSON, or the raw "
        "bytes or text of a non-JSON answer).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=text,
            description=text,
            allow_abbrev=False,
            formatter_class=schema_arguments.Formatter,
        )

    metadata = command("get_metadata", "Print the model's metadata as JSON.")
    schema_command = command("schema", "Print the model's arguments as JSON Schema.")
    schema_command.add_argument(
        "which",
        nargs="?",
        choices=["predict", "train"],
        help="Only predict's or train's arguments (default: both, by command).",
    )
    predict = command(
        "predict",
        "Run predict; print its output: JSON, or the raw bytes or text of a non-JSON --accept.",
    )
    train = command(
        "train", "Run train; print its result as JSON and its progress on standard error."
    )
    if model is not None:
        schema_arguments.add_options(predict, model.predict_schema)
        schema_arguments.add_options(train, model.train_schema)
    for sub, schema in [
        (predict, None if model is None else model.predict_schema),
        (train, None if model is None else model.train_schema),
        (schema_command, None),
        (metadata, None),
    ]:
        keys = (
            () if schema is None else (model_args.data_key(*item) for item in schema.fields.items())
        )
        if "output" not in keys:
            # --output after the command too, unless the model has an argument of that name.
            sub.add_argument(
                "--output", metavar="FILE", default=argparse.SUPPRESS, help="As before the command."
            )
    return parser


def _input_json(source: str | None) -> dict[str, Any]:
    if source is None:
        return {}
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise exceptions.MalformedBody(f"--input-json: cannot read {source}: {exc}") from exc
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise exceptions.MalformedBody(f"--input-json: not valid JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise exceptions.MalformedBody("--input-json: the arguments must be a JSON object")
    return values


def _arguments(model: ModelWrapper, command: str, namespace: argparse.Namespace) -> dict[str, Any]:
    schema = model.predict_schema if command == "predict" else model.train_schema
    values = schema_arguments.from_json(schema, _input_json(namespace.input_json))
    values.update(schema_arguments.from_namespace(schema, namespace))
    return schema_arguments.load(schema, values)


def _report(fraction: float, message: str) -> None:
    print(f"deepaas-cli: progress {fraction:.0%} {message}".rstrip(), file=sys.stderr, flush=True)


def _schema(model: ModelWrapper, which: str | None) -> Any:
    from deepaas_lite.openapi.jsonschema import arguments_json_schema  # only for this command

    schemas = {"predict": model.predict_schema, "train": model.train_schema}
    if which is not None:
        return arguments_json_schema(schemas[which])
    return {name: arguments_json_schema(schema) for name, schema in schemas.items()}


@dataclass(frozen=True)
class Result:
    """What a command produced, and where it goes."""

    output: Any
    media_type: str = JSON
    target: str | None = None  # --output; None is standard output


def run(argv: Sequence[str]) -> Result:
    """Parse ``argv`` and run the command."""
    first = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    first.add_argument("--model-name")
    first.add_argument("--plugin", action="append", default=[])
    first.add_argument("--state-dir", default=DEFAULT_STATE_DIR)
    known, _ = first.parse_known_args(argv)
    files = plugin_files.parse_all(known.plugin)
    plugin_files.export(files)
    model_store.export(Path(known.state_dir).expanduser() / "models")
    name = known.model_name or (next(iter(files)) if len(files) == 1 else None)
    model = loading.load_model(name) if name else None
    namespace = _parser(model).parse_args(argv)
    assert model is not None  # --model-name is required by the parser
    target = namespace.output
    if namespace.command == "get_metadata":
        return Result({"id": model.id, **model.metadata()}, target=target)
    if namespace.command == "schema":
        return Result(_schema(model, namespace.which), target=target)
    kwargs = _arguments(model, namespace.command, namespace)
    if namespace.command == "train":
        return Result(_train(model, kwargs), target=target)
    try:
        model.warm()
        output = model.predict(kwargs)
    except exceptions.ModelNotReady as exc:
        if not model.can_train:
            raise
        hint = shlex.join(["deepaas-cli", *_model_options(known), "train"])
        raise exceptions.ModelNotReady(f"{exc.message}\ntrain it with: {hint}") from exc
    media_type = model.answer_type(kwargs)
    if media_type == JSON:
        output = model.validate_output(output)
    return Result(output, media_type, target)


def _train(model: ModelWrapper, kwargs: dict[str, Any]) -> Any:
    """Run train as a new version of the model store, made current when it ends well."""
    version = uuid.uuid4().hex
    progress.set_reporter(_report)
    try:
        output = model.train(kwargs, version)
    except BaseException:
        if model.store is not None:
            model.store.discard(version)
        raise
    finally:
        progress.set_reporter(None)
    if model.store is not None and model.store.add(version):
        print(f"deepaas-cli: version {version} of {model.id} is current", file=sys.stderr)
    return output


def _model_options(known: argparse.Namespace) -> list[str]:
    """The options that chose the model, to show a command for the same model."""
    chosen = [part for path in known.plugin for part in ("--plugin", path)]
    if known.model_name:
        chosen += ["--model-name", known.model_name]
    if known.state_dir != DEFAULT_STATE_DIR:
        chosen += ["--state-dir", known.state_dir]
    return chosen


def _write_raw(output: Any, out: IO[bytes]) -> bytes:
    """bytes, text (never read as a path), an open binary file or a ``Path``; returns
    the last byte written (``b""`` when none)."""
    if isinstance(output, bytes | bytearray | memoryview):
        data = bytes(output)
        out.write(data)
        return data[-1:]
    if isinstance(output, str):
        data = output.encode()
        out.write(data)
        return data[-1:]
    if isinstance(output, Path):
        output = output.open("rb")
    if isinstance(output, io.IOBase) or hasattr(output, "read"):
        last = b""
        with output:
            while chunk := output.read(1 << 16):
                data = chunk.encode() if isinstance(chunk, str) else chunk
                out.write(data)
                last = data[-1:]
        return last
    raise exceptions.InvalidResponse(
        f"A non-JSON answer must be bytes, str, a binary file or a path, "
        f"not {type(output).__name__}"
    )


def write(result: Result) -> None:
    """JSON or the raw answer, to its target or standard output.

    At a terminal, JSON is indented with its text as is (not \\u-escaped), and text
    ends with a newline; elsewhere (a pipe, a file), JSON is one line and the answer
    is written as the model gave it.
    """
    with ExitStack() as stack:
        if result.target is None:
            sys.stdout.flush()
            out: IO[bytes] = sys.stdout.buffer
            terminal = sys.stdout.isatty()
        else:
            out = stack.enter_context(open(result.target, "wb"))
            terminal = False
        if result.media_type == JSON:
            text = dumps(result.output)
            if terminal:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            out.write((text + "\n").encode())
        else:
            last = _write_raw(result.output, out)
            if terminal and result.media_type.startswith("text/") and last not in (b"", b"\n"):
                out.write(b"\n")
        out.flush()


def _error(message: str) -> None:
    for line in message.splitlines() or [""]:
        print(f"deepaas-cli: {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["new"]:
        from deepaas_lite.cmd import new  # writes a plugin package; needs no model

        return new.main(argv[1:])
    try:
        write(run(argv))
    except exceptions.InvalidArguments as exc:
        print(
            dumps({"code": 422, "message": exc.message, "errors": exc.errors}),
            file=sys.stderr,
        )
        return 2
    except exceptions.MalformedBody as exc:
        _error(exc.message)
        return 2
    except exceptions.DeepaasError as exc:
        _error(exc.message)
        return 1
    except Exception as exc:
        _error(f"the model failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
