"""A request body before arguments are read from it: its type, its size, its JSON.

A body is refused before any of it is read when its declared length is over
``client_max_size`` (413, whatever its type), when a JSON or urlencoded body's is over
``json_max_size`` (413: large data travels as files of a multipart form), or when no
argument location reads its type (415); a client that sent ``Expect: 100-continue`` is
then never asked for it (nor one the Host, Origin or token checks refuse). A body
without a declared length is held to the same limits as it is read (``read_text_body``).

A JSON body must be an object of real JSON: no ``NaN``/``Infinity``, no number too
large for a float, and no deeper than ``MAX_JSON_DEPTH`` nested containers. orjson
decodes it (10-15 times the standard decoder, which calls back into Python for every
float); what orjson refuses goes to the standard decoder, which reads what orjson does
not (a BOM, UTF-16 or UTF-32, lone surrogates) or refuses it with the same words as
before. A large body is decoded ``stepwise`` (by the pure-Python scanner, value by
value), in a thread: a C decoder would hold the GIL, and so the event loop, for its
whole length.
"""

from __future__ import annotations

import json
import json.scanner
import math
from typing import Any

import orjson
from aiohttp import HttpVersion11, web
from webargs import core

from deepaas_lite import exceptions

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
FORMS = (URLENCODED, MULTIPART)
READ_TYPES = ("application/json", *FORMS)
MAX_JSON_DEPTH = 100
_CHUNK = 64 * 1024


def is_json(content_type: str) -> bool:
    """``application/json`` and ``application/<anything>+json``."""
    return bool(core.is_json(content_type))


def is_text_body(content_type: str) -> bool:
    """A body read whole into memory before its arguments: JSON or urlencoded."""
    return content_type == URLENCODED or is_json(content_type)


def text_limit(request: web.Request, json_max_size: int) -> int:
    """The largest JSON or urlencoded body ``request`` may send (0: no limit)."""
    limits = [limit for limit in (request.client_max_size, json_max_size) if limit]
    return min(limits, default=0)


def text_too_large(limit: int, size: int) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=size,
        text=f"A JSON or urlencoded body may be at most {limit} bytes (--json-max-size): "
        "send large data as files of a multipart/form-data body",
    )


def check_body(request: web.Request, json_max_size: int = 0) -> None:
    """Refuse a body that is too large or of a type no argument is read from."""
    if not request.body_exists:
        return
    limit = request.client_max_size
    length = request.content_length
    if limit and length is not None and length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
    content_type = request.content_type
    text_max = text_limit(request, json_max_size)
    if length is not None and text_max and length > text_max and is_text_body(content_type):
        raise text_too_large(text_max, length)
    if not (is_json(content_type) or content_type in FORMS):
        raise exceptions.UnsupportedMediaType(
            f"Cannot read a body of type '{content_type}': send "
            + ", ".join(READ_TYPES[:-1])
            + f" or {READ_TYPES[-1]}"
        )


async def read_text_body(request: web.Request, limit: int) -> bytes:
    """A JSON or urlencoded body, read whole; 413 as soon as it passes ``limit``."""
    if request.content_length is not None:  # checked against the limit already
        return await request.read()
    chunks = []
    size = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if limit and size > limit:
            raise text_too_large(limit, size)
        chunks.append(chunk)
    return b"".join(chunks)


EXPECTS_CONTINUE = web.RequestKey("expects_continue", bool)


async def expect_continue(request: web.Request) -> None:
    """``Expect: 100-continue``: noted here, answered by ``send_continue`` only once the
    handler is about to read the body, after the Host, Origin and token checks and
    ``check_body``. A refused request gets its 401, 403, 413 or 415 at once, and the
    client never sends the body."""
    expect = request.headers.get("Expect", "")
    if request.version != HttpVersion11:
        return
    if expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    request[EXPECTS_CONTINUE] = True


async def send_continue(request: web.Request) -> None:
    """Invite the body a client is holding back for ``100 Continue`` (once)."""
    if request.get(EXPECTS_CONTINUE):
        request[EXPECTS_CONTINUE] = False
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer itself starts after this line


def json_object(raw: bytes, stepwise: bool = False) -> dict[str, Any]:
    """The JSON object of a body; ``MalformedBody`` for anything else.

    ``stepwise`` decodes with the pure-Python scanner: slower, but it lets other
    threads have the GIL while it works (for a large body, in a thread).
    """
    try:
        value = _stepwise(raw) if stepwise else _decode(raw)
    except RecursionError as exc:
        raise exceptions.MalformedBody(_too_deep()) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise exceptions.MalformedBody(f"Malformed JSON body: {exc}") from exc
    if not isinstance(value, dict):
        raise exceptions.MalformedBody("The JSON body must be an object")
    # A body nests no deeper than the brackets it holds: one with few (a tensor's list
    # of numbers) is not walked.
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise exceptions.MalformedBody(_too_deep())
    return value


def _decode(raw: bytes) -> Any:
    """orjson's reading of ``raw``, unless it refuses it or ``raw`` may hold an integer
    beyond 64 bits (which orjson reads as a float): then the standard decoder's."""
    if _LONG_NUMBER not in raw.translate(_DIGITS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the standard decoder reads it (a BOM, UTF-16) or says why not
    return _DECODER.decode(_text(raw))


def _stepwise(raw: bytes) -> Any:
    return _stepwise_decoder().decode(_text(raw))


def _text(raw: bytes) -> str:
    """``raw`` as text, as json.loads decodes bytes."""
    return raw.decode(json.detect_encoding(raw), "surrogatepass")


# Every digit as "0", anything else as " ": a run of 20 zeros is a number of 20 digits
# or more, where an integer may be beyond 64 bits (2**64 has 20 digits).
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"0" * 20


def _stepwise_decoder() -> json.JSONDecoder:
    decoder = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder


def _too_deep() -> str:
    return f"Malformed JSON body: nested deeper than {MAX_JSON_DEPTH} levels"


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a number")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def _deeper_than(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether containers nest deeper than ``limit``, found without recursion (only
    containers are walked: a scalar has no depth of its own)."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
