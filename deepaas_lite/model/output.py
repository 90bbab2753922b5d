"""A model's JSON output as text, with numpy-like values (anything with ``tolist()``).

NaN and Infinity are not JSON. ``dumps`` and ``encode`` refuse them, naming where they
are (``NaN at predictions.scores[2]``); ``finite`` replaces them with ``None`` for
results that must be kept whatever they hold (a training's).

``encode`` makes the HTTP answers' bytes with orjson: 7-15 times the standard encoder
on a small answer, 20 times on a numpy array (its data read as it lies, not made a
list first), so a large output holds the event loop that much less. What orjson does
not take as the standard encoder would (keys that are not strings, integers over 64
bits, ``datetime`` and dataclasses, a cycle) goes to the standard encoder, so that
answers and errors stay as they were. Only the writing changes: no spaces between
items, text as UTF-8 (not ``\\u`` escapes), a numpy float32 at its own precision.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import orjson

from deepaas_lite import exceptions


def _default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(default=_default, allow_nan=False)  # one, not one a call
# What ``encode`` hands over: the same, written as orjson writes (no spaces, UTF-8).
_COMPACT = json.JSONEncoder(
    default=_default, allow_nan=False, separators=(",", ":"), ensure_ascii=False
)


def dumps(value: Any) -> str:
    """``value`` as JSON; arrays and numpy scalars become lists and numbers."""
    return _standard(_ENCODER, value)


def _standard(encoder: json.JSONEncoder, value: Any) -> str:
    try:
        return encoder.encode(value)
    except ValueError as exc:
        where = non_finite(value)
        if where is None:
            raise
        raise _not_json(where) from exc


# orjson's own ways with datetimes and dataclasses are left to ``_default``, which
# refuses them as the standard encoder does.
_OPTIONS = (
    orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def encode(value: Any) -> bytes:
    """``value`` as compact JSON bytes, as ``dumps`` would give it (and refuse it)."""
    try:
        data = orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return _standard(_COMPACT, value).encode()  # it takes it, or says why not
    # orjson writes NaN and Infinity as null: a null may be one.
    if b"null" in data and (where := non_finite(value)) is not None:
        raise _not_json(where)
    return data


def _not_json(where: str) -> exceptions.InvalidResponse:
    return exceptions.InvalidResponse(f"Output is not valid JSON: {where}")


def non_finite(value: Any) -> str | None:
    """Where the first NaN or Infinity of ``value`` is (``"NaN at a.b[2]"``), or ``None``."""
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return _at(item, path)
            continue
        if isinstance(item, dict | list | tuple):
            if id(item) in seen:
                continue
            seen.add(id(item))
        if isinstance(item, dict):
            stack.extend((v, _key(path, k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
        elif callable(getattr(item, "tolist", None)):
            stack.append((item.tolist(), path))
    return None


def finite(value: Any) -> tuple[Any, list[str]]:
    """``value`` with each NaN or Infinity (in dicts, lists, tuples) made ``None``,
    and where they were. Without any, ``value`` itself is returned."""
    places: list[str] = []
    active: set[int] = set()

    def walk(item: Any, path: str) -> Any:
        if isinstance(item, float) and not math.isfinite(item):
            places.append(_at(item, path))
            return None
        if not isinstance(item, dict | list | tuple) or id(item) in active:
            return item  # a cycle is left for json.dumps to report
        active.add(id(item))
        try:
            if isinstance(item, dict):
                return {k: walk(v, _key(path, k)) for k, v in item.items()}
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(item)]
        finally:
            active.discard(id(item))

    result = walk(value, "")
    return (result, places) if places else (value, [])


def _key(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _at(number: float, path: str) -> str:
    name = "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    return f"{name} at {path or 'the top level'}"


def with_charset(media_type: str) -> str:
    """Text (``text/*``) is said to be UTF-8 unless the media type names a charset: a str
    is sent so, and clients that assume ISO-8859-1 otherwise (``requests``) read it right."""
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        return media_type + "; charset=utf-8"
    return media_type


def raw_bytes(output: Any) -> bytes:
    """A non-JSON answer's body: bytes, str (text, never a path), an open binary file
    or a ``pathlib.Path``; anything else is ``InvalidResponse``."""
    if isinstance(output, bytes | bytearray | memoryview):
        return bytes(output)
    if isinstance(output, io.IOBase) or hasattr(output, "read"):
        with output:
            data = output.read()
        return data.encode() if isinstance(data, str) else bytes(data)
    if isinstance(output, Path):
        return output.read_bytes()
    if isinstance(output, str):
        return output.encode()
    raise exceptions.InvalidResponse(
        f"A non-JSON answer must be bytes, str, a binary file or a path, "
        f"not {type(output).__name__}"
    )
