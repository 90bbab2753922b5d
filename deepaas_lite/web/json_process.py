"""Large JSON bodies decoded in a process of their own.

The C decoder is quick but holds the GIL, and so the event loop, for a whole body (tens
of milliseconds for a few MiB); the pure-Python one lets go of it but costs ten times
the CPU, all of it taken from the server's threads. A large body is decoded in a worker
process instead (one, spawned on first use, shared by the server's requests), with the
same checks (``body.json_object``). What comes back is the object, pickled (unpickling
is quick), or, when the object has keys the arguments do not, only those keys: such a
body never reaches the server's process at all. A worker that dies (out of memory) is
replaced, and that body decoded in a thread instead.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from deepaas_lite.web.body import json_object

_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


def shutdown() -> None:
    """Stop the worker (at exit)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


atexit.register(shutdown)


def _decode(raw: bytes, known: frozenset[str] | None) -> tuple[dict[str, Any] | None, list[str]]:
    """In the worker: the object, or ``None`` and the keys that are not in ``known``."""
    value = json_object(raw)
    if known is not None:
        unknown = [key for key in value if key not in known]
        if unknown:
            return None, unknown
    return value, []


async def decode(
    raw: bytes, known: Collection[str] | None = None
) -> tuple[dict[str, Any] | None, list[str]]:
    """``raw``'s JSON object (``MalformedBody`` if it is none), decoded in the worker;
    with ``known``, ``(None, unknown keys)`` when it has keys beyond them."""
    keys = None if known is None else frozenset(known)
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _decode, raw, keys)
    except BrokenProcessPool:
        shutdown()  # a new worker next time
        return await asyncio.to_thread(_decode_stepwise, raw, keys)


def _decode_stepwise(
    raw: bytes, known: frozenset[str] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    value = json_object(raw, stepwise=True)
    unknown = [] if known is None else [key for key in value if key not in known]
    return (None, unknown) if unknown else (value, [])
