"""A request body before arguments are read from it: its type, its size, its JSON.

A body is refused before any of it is read when its declared length is over
``client_max_size`` (413, whatever its type) or when no argument location reads its
type (415); a client that sent ``Expect: 100-continue`` is then never asked for it.
A JSON body must be an object of real JSON: no ``NaN``/``Infinity``, no number too
large for a float, and no deeper than ``MAX_JSON_DEPTH`` nested containers.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import HttpVersion11, web
from webargs import core

from deepaas_lite import exceptions

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
READ_TYPES = ("application/json", *FORMS)
MAX_JSON_DEPTH = 100


def is_json(content_type: str) -> bool:
    """``application/json`` and ``application/<anything>+json``."""
    return bool(core.is_json(content_type))


def check_body(request: web.Request) -> None:
    """Refuse a body that is too large or of a type no argument is read from."""
    if not request.body_exists:
        return
    limit = request.client_max_size
    length = request.content_length
    if limit and length is not None and length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
    content_type = request.content_type
    if not (is_json(content_type) or content_type in FORMS):
        raise exceptions.UnsupportedMediaType(
            f"Cannot read a body of type '{content_type}': send "
            + ", ".join(READ_TYPES[:-1])
            + f" or {READ_TYPES[-1]}"
        )


async def expect_continue(request: web.Request) -> None:
    """``Expect: 100-continue``: invite only a body that will be read.

    A body that ``check_body`` refuses gets no ``100 Continue``: the handler answers
    413 or 415 at once and the client never sends it.
    """
    try:
        check_body(request)
    except (web.HTTPException, exceptions.DeepaasError):
        return
    expect = request.headers.get("Expect", "")
    if request.version != HttpVersion11:
        return
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.writer.output_size = 0  # the answer itself starts after this line


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object of a body; ``MalformedBody`` for anything else."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise exceptions.MalformedBody(_too_deep()) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise exceptions.MalformedBody(f"Malformed JSON body: {exc}") from exc
    if not isinstance(value, dict):
        raise exceptions.MalformedBody("The JSON body must be an object")
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise exceptions.MalformedBody(_too_deep())
    return value


def _too_deep() -> str:
    return f"Malformed JSON body: nested deeper than {MAX_JSON_DEPTH} levels"


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a number")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit``, found without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
