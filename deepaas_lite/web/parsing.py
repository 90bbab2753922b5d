"""Arguments from a request, parsed with webargs against a model's schema.

One location, ``"request"``, merges the query string with the body (a JSON object, a
urlencoded form or a multipart form). Repeated keys make a list for list fields. File
parts are saved to a temporary directory and handed over as ``UploadedFile``; the
``Uploads`` returned with the arguments removes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
import sys
import tempfile
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from aiohttp import web
from marshmallow import RAISE, Schema, ValidationError
from multidict import MultiDict, MultiMapping
from webargs.asyncparser import AsyncParser
from webargs.core import Parser

from deepaas_lite import exceptions
from deepaas_lite.model import args as model_args
from deepaas_lite.model import values
from deepaas_lite.model.uploads import UploadedFile
from deepaas_lite.web import json_process
from deepaas_lite.web.body import (
    MULTIPART,
    URLENCODED,
    check_body,
    is_json,
    is_text_body,
    json_object,
    read_text_body,
    send_continue,
    text_limit,
)
from deepaas_lite.web.keys import SETTINGS
from deepaas_lite.web.negotiation import QUERY_KEY, choose, requested


class Uploads:
    """The temporary files of one request; ``cleanup()`` removes them all."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._saved = 0

    def save(self, key: str, field: web.FileField) -> UploadedFile:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="deepaas-lite-upload-"))
        target = self._dir / f"{self._saved}-{Path(key).name}"
        self._saved += 1
        with open(target, "wb") as out:
            field.file.seek(0)
            shutil.copyfileobj(field.file, out)
        field.file.close()
        return UploadedFile(
            name=key,
            filename=str(target),
            content_type=field.content_type,
            original_filename=field.filename,
        )

    def cleanup(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


UPLOADS = web.RequestKey("uploads", Uploads)


BODY = web.RequestKey("text_body", bytes)
"""A JSON or urlencoded body, read (within its limit) before the arguments."""
DECODED = web.RequestKey("decoded_body", dict[str, Any])
"""A large JSON body's object, decoded in the worker process (``json_process``)."""


class _Arguments(Parser[web.Request]):
    """What both parsers share: the ``request`` location read from a body already read
    (``BODY``) or a multipart form, and the errors."""

    def _request_data(
        self, req: web.Request, schema: Schema, form: MultiDict[Any] | None = None
    ) -> dict[str, Any]:
        # Unknown keys are kept in every location, so that validation names them.
        # ``?accept=`` is the media type asked for, not an argument (negotiated below).
        query = _without(req.query, QUERY_KEY)
        data: dict[str, Any]
        raw = req.get(BODY)
        if raw is not None and req.content_type == URLENCODED:
            form = self._form_values(req, schema, _urlencoded(req, raw))
        if form is not None:
            merged: MultiDict[Any] = MultiDict(query)
            merged.extend(form)
            data = self._text_dict(req, merged, schema)
            _set_aside(req, data, _accept_in(form))
        elif raw is not None:
            data = self._text_dict(req, query, schema)
            body = req.get(DECODED)
            if body is None:
                body = json_object(raw) if raw.strip() else {}
            _set_aside(req, body, {**values.json_errors(schema, body), **_accept_in(body)})
            data.update(body)
        else:
            data = self._text_dict(req, query, schema)
        choices = _shape(schema).accept
        if choices and model_args.ACCEPT not in data:
            data[model_args.ACCEPT] = choose(requested(req.query, req.headers), choices)
        return data

    def _text_dict(self, req: web.Request, multidict: Any, schema: Schema) -> dict[str, Any]:
        """A query string or form: lists from repeated keys, booleans and objects read."""
        if not multidict:
            return {}
        proxy = self._makeproxy(multidict, schema)
        data, errors = values.from_text(schema, {key: proxy[key] for key in proxy})
        _set_aside(req, data, errors)
        return data

    def _form_values(
        self, req: web.Request, schema: Schema, form: MultiMapping[Any]
    ) -> MultiDict[Any]:
        uploads: Uploads = req[UPLOADS]
        file_keys = _shape(schema).file_keys
        out: MultiDict[Any] = MultiDict()
        for key, value in form.items():
            if isinstance(value, web.FileField) and key not in file_keys:
                # A browser sends a JSON value it holds as a Blob: a "file" named "blob".
                with value.file as blob:
                    value = blob.read()
            if key in file_keys and value in ("", b""):
                continue  # an empty file input: no file, as in a browser's own form
            if isinstance(value, web.FileField):
                out.add(key, uploads.save(key, value))
            elif isinstance(value, bytes | bytearray):  # a part whose type is not text/*
                try:
                    out.add(key, value.decode("utf-8"))
                except UnicodeDecodeError:
                    req[SET_ASIDE][key] = ["Not UTF-8 text."]
            else:
                out.add(key, value)
        return out

    def handle_error(
        self,
        error: ValidationError,
        req: web.Request,
        schema: Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        messages: Any = error.messages
        if isinstance(messages, dict):
            messages = messages.get("request", messages)  # webargs nests by location
        errors = messages if isinstance(messages, dict) else {"_schema": messages}
        raise exceptions.InvalidArguments(_bounded({**errors, **req.get(SET_ASIDE, {})}))


class RequestParser(_Arguments, AsyncParser[web.Request]):
    """webargs parser whose ``request`` location is query string plus body, on the loop."""

    __location_map__ = {**AsyncParser.__location_map__, "request": "load_request"}

    async def load_request(self, req: web.Request, schema: Schema) -> Mapping[str, Any]:
        form = await self._form(req, schema) if _is_multipart(req) else None
        return self._request_data(req, schema, form)

    async def _form(self, req: web.Request, schema: Schema) -> MultiDict[Any]:
        try:
            form = await req.post()
        except web.HTTPException:
            raise
        except Exception as exc:
            raise exceptions.MalformedBody(f"Malformed form body: {exc}") from exc
        return self._form_values(req, schema, form)


class _ThreadParser(_Arguments):
    """The same, for a large body already read: all of it runs in a worker thread."""

    __location_map__ = {**Parser.__location_map__, "request": "load_read_request"}

    def load_read_request(self, req: web.Request, schema: Schema) -> Mapping[str, Any]:
        return self._request_data(req, schema)


def _is_multipart(req: web.Request) -> bool:
    return req.body_exists and req.content_type == MULTIPART


def _urlencoded(req: web.Request, raw: bytes) -> MultiDict[str]:
    """A urlencoded body's fields, as aiohttp's ``post()`` reads them."""
    charset = req.charset or "utf-8"
    try:
        text = raw.rstrip().decode(charset)
        pairs = parse_qsl(text, keep_blank_values=True, encoding=charset)
    except (UnicodeDecodeError, LookupError, ValueError) as exc:
        raise exceptions.MalformedBody(f"Malformed form body: {exc}") from exc
    return MultiDict(pairs)


# Errors named at most per level of a 422: a large body's thousands of invalid items
# would make an answer as large, encoded on the event loop.
MAX_ERRORS = 20


def _bounded(errors: dict[Any, Any]) -> dict[Any, Any]:
    """``errors`` with at most ``MAX_ERRORS`` entries a level, and a count of the rest."""
    out: dict[Any, Any] = {}
    for index, (key, value) in enumerate(errors.items()):
        if index == MAX_ERRORS:
            out["..."] = [f"{len(errors) - MAX_ERRORS} more errors not shown"]
            break
        out[key] = _bounded(value) if isinstance(value, dict) else value
    return out


SET_ASIDE: web.RequestKey[dict[str, Any]] = web.RequestKey("invalid_before_loading", dict)


def _set_aside(req: web.Request, data: dict[str, Any], errors: Mapping[str, Any]) -> None:
    """Leave out values found invalid before loading; their errors join marshmallow's."""
    for key in errors:
        data.pop(key, None)
    req[SET_ASIDE].update(errors)


def _without(query: MultiMapping[str], key: str) -> Mapping[str, str]:
    """``query`` without ``key`` (the same object when it has none)."""
    if key not in query:
        return query
    return MultiDict((k, v) for k, v in query.items() if k != key)


def _accept_in(body: Mapping[str, Any]) -> dict[str, list[str]]:
    return {model_args.ACCEPT: [_ACCEPT_IN_BODY]} if model_args.ACCEPT in body else {}


_ACCEPT_IN_BODY = "Not read from a body: send the Accept header or ?accept= in the query string."


@dataclass(frozen=True)
class _Shape:
    """What parsing needs to know of a schema, worked out once per schema."""

    accept: tuple[str, ...]  # the media types of an ``accept`` argument
    files: tuple[str, ...]  # the names of file arguments
    file_lists: tuple[str, ...]  # the names of list-of-files arguments
    file_keys: frozenset[str]  # the keys clients send files (or lists of them) under


@functools.cache
def _shape(schema: Schema) -> _Shape:
    return _Shape(
        accept=tuple(model_args.accept_choices(schema)),
        files=tuple(n for n, f in schema.fields.items() if model_args.is_file_field(f)),
        file_lists=tuple(n for n, f in schema.fields.items() if model_args.is_file_list(f)),
        file_keys=frozenset(model_args.file_fields(schema)),
    )


def _check_files(schema: Schema, data: Mapping[str, Any]) -> None:
    """A file argument holds files only: text sent for it never reaches the plugin."""
    shape = _shape(schema)
    errors = {
        name: ["Not a file: send it as a file part of a multipart/form-data body."]
        for name in shape.files
        if data.get(name) is not None and not isinstance(data[name], UploadedFile)
    }
    errors.update(
        (name, ["Not a list of files: send each as a file part of a multipart/form-data body."])
        for name in shape.file_lists
        if data.get(name) is not None
        and not all(isinstance(item, UploadedFile) for item in data[name])
    )
    if errors:
        raise exceptions.InvalidArguments(errors)


PARSER = RequestParser()
_THREAD_PARSER = _ThreadParser()

# A JSON or urlencoded body larger than this is decoded in a worker process (JSON) or a
# thread (urlencoded), and validated in a thread.
OFF_LOOP_BYTES = 64 * 1024
# Large bodies decoded at once, and waiting for their turn (beyond: 503): what they
# cost in memory is bounded by these, times the limit of --json-max-size.
LARGE_AT_ONCE = 1
LARGE_WAITING = 4
LARGE_SWITCH_INTERVAL = 0.0005  # seconds

ERRORS = (
    exceptions.MalformedBody,
    exceptions.UnsupportedMediaType,
    exceptions.InvalidArguments,
    exceptions.NotAcceptable,  # an ``accept`` argument that no choice satisfies
    exceptions.ModelBusy,  # too many large bodies waiting to be read
)
"""What ``parse_arguments`` raises (a body over the size limit is aiohttp's 413)."""


async def parse_arguments(request: web.Request, schema: Schema) -> tuple[dict[str, Any], Uploads]:
    """Validated arguments and the request's uploads (the caller cleans them up).

    A JSON or urlencoded body is read whole first, within its limit; a large one is
    decoded in a worker process (``json_process``; urlencoded: in a thread) and
    validated in a thread, one at a time (``LARGE_AT_ONCE``).
    """
    json_max_size = request.app[SETTINGS].json_max_size
    check_body(request, json_max_size)
    uploads = Uploads()
    if not schema.fields and not request.body_exists and not request.query:
        return {}, uploads  # nothing declared, nothing sent
    request[UPLOADS] = uploads
    request[SET_ASIDE] = {}
    try:
        if request.body_exists:
            await send_continue(request)
            if is_text_body(request.content_type):
                limit = text_limit(request, json_max_size)
                request[BODY] = await read_text_body(request, limit)
        raw = request.get(BODY)
        if raw is not None and len(raw) > OFF_LOOP_BYTES:
            async with _large_body_turn():
                if is_json(request.content_type):
                    await _decode_large(request, raw, schema)
                data = await asyncio.to_thread(_parse_read, schema, request)
        else:
            data = await PARSER.parse(schema, request, location="request", unknown=RAISE)
        invalid: dict[str, Any] = request[SET_ASIDE]
        if invalid:
            raise exceptions.InvalidArguments(_bounded(invalid))
        _check_files(schema, data)
    except RecursionError as exc:  # a schema that nests itself, as deep as the body
        uploads.cleanup()
        raise exceptions.MalformedBody("The body is nested too deeply to be read") from exc
    except BaseException:
        uploads.cleanup()
        raise
    return dict(data), uploads


async def _decode_large(request: web.Request, raw: bytes, schema: Schema) -> None:
    """Decode a large JSON body in the worker process; its keys that no argument has
    are a 422 at once, before its object ever reaches this process."""
    known = [*values.keys_of(schema), model_args.ACCEPT]
    decoded, unknown = await json_process.decode(raw, known)
    if unknown:
        raise exceptions.InvalidArguments(_bounded({key: [UNKNOWN_FIELD] for key in unknown}))
    assert decoded is not None
    request[DECODED] = decoded


UNKNOWN_FIELD = "Unknown field."  # marshmallow's own words


def _parse_read(schema: Schema, request: web.Request) -> Any:
    return _THREAD_PARSER.parse(schema, request, location="request", unknown=RAISE)


class _Turns:
    """Whose turn it is to decode a large body, on one event loop."""

    def __init__(self) -> None:
        self.semaphore = asyncio.Semaphore(LARGE_AT_ONCE)
        self.waiting = 0


_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def _large_body_turn() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    turns = _TURNS.get(loop)
    if turns is None:
        turns = _TURNS[loop] = _Turns()
    if turns.semaphore.locked() and turns.waiting >= LARGE_WAITING:
        raise exceptions.ModelBusy(
            "Too many large bodies are waiting to be read; retry later", retry_after=1
        )
    turns.waiting += 1
    try:
        await turns.semaphore.acquire()
    finally:
        turns.waiting -= 1
    # Meanwhile threads trade the GIL every LARGE_SWITCH_INTERVAL, not every 5 ms: the
    # event loop, waking from each poll, would wait up to that long for the decoder.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, LARGE_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
        turns.semaphore.release()
