"""Messages between the server and a predict worker process: framed pickles on a socket.

A frame is an 8-byte big-endian length and a pickle (protocol 5). The worker side
reads and writes with blocking calls; the server side with asyncio streams, so the
event loop never blocks on a worker. Exceptions cross as themselves when they pickle,
else as a recipe (aiohttp's HTTP errors) or a ``PluginFailed`` with their message.
"""

from __future__ import annotations

import asyncio
import pickle
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deepaas_lite import exceptions

PROTOCOL = 5
HEADER = 8
_CHUNK = 1 << 16


def dumps(obj: Any) -> bytes:
    """A frame holding ``obj``; raises when ``obj`` does not pickle."""
    data = pickle.dumps(obj, protocol=PROTOCOL)
    return len(data).to_bytes(HEADER, "big") + data


def send(sock: socket.socket, frame: bytes) -> None:
    sock.sendall(frame)


def recv(sock: socket.socket) -> Any:
    """The next object; ``EOFError`` when the other end has closed."""
    size = int.from_bytes(_recv_exactly(sock, HEADER), "big")
    return pickle.loads(_recv_exactly(sock, size))


class Reader:
    """The objects of a blocking socket's frames, read a buffer at a time.

    Frames that came together (the server writes the calls for a busy worker at once)
    take one system call, not two each. A frame larger than the buffer is read into
    its own.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def recv(self) -> Any:
        """The next object; ``EOFError`` when the other end has closed."""
        size = int.from_bytes(self._take(HEADER), "big")
        return pickle.loads(self._take(size))

    def _take(self, size: int) -> bytearray:
        buffer = self._buffer
        missing = size - len(buffer)
        if missing > _CHUNK:  # a large frame: the rest goes straight into its own buffer
            data = bytearray(size)
            data[: len(buffer)] = buffer
            buffer.clear()
            _fill(self._sock, memoryview(data)[size - missing :])
            return data
        while len(buffer) < size:
            chunk = self._sock.recv(_CHUNK)
            if not chunk:
                raise EOFError("connection closed")
            buffer += chunk
        taken = buffer[:size]
        del buffer[:size]
        return taken


def _recv_exactly(sock: socket.socket, size: int) -> bytearray:
    buf = bytearray(size)
    _fill(sock, memoryview(buf))
    return buf


def _fill(sock: socket.socket, view: memoryview) -> None:
    """Read into all of ``view``; ``EOFError`` when the other end closes first."""
    size = len(view)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], min(size - got, _CHUNK * 16))
        if n == 0:
            raise EOFError("connection closed")
        got += n


async def read(reader: asyncio.StreamReader) -> Any:
    """The next object from an asyncio stream; ``EOFError`` when it has closed."""
    try:
        size = int.from_bytes(await reader.readexactly(HEADER), "big")
        data = await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise EOFError("connection closed") from exc
    return pickle.loads(data)


@dataclass(frozen=True)
class HTTPErrorRecipe:
    """An aiohttp ``HTTPException`` (it does not pickle), to build again in the server."""

    cls: Callable[..., BaseException]
    reason: str
    text: str | None

    def build(self) -> BaseException:
        return self.cls(reason=self.reason, text=self.text)


def capture(exc: BaseException, model_id: str) -> BaseException | HTTPErrorRecipe:
    """What crosses the pipe for ``exc``: itself, a recipe or a ``PluginFailed``."""
    try:
        pickle.loads(pickle.dumps(exc, protocol=PROTOCOL))
        exc.__traceback__ = None
        return exc
    except Exception:
        pass
    status, reason = getattr(exc, "status", None), getattr(exc, "reason", None)
    if isinstance(status, int) and isinstance(reason, str):
        text = getattr(exc, "text", None)
        recipe = HTTPErrorRecipe(type(exc), reason, text if isinstance(text, str) else None)
        try:
            pickle.dumps(recipe, protocol=PROTOCOL)
            return recipe
        except Exception:
            pass
    return exceptions.PluginFailed(str(exc) or f"Model '{model_id}' raised {type(exc).__name__}")


def restore(error: Any, model_id: str) -> BaseException:
    """The exception to raise in the server for what ``capture`` sent."""
    if isinstance(error, HTTPErrorRecipe):
        try:
            return error.build()
        except Exception:
            return exceptions.PluginFailed(error.reason)
    if isinstance(error, BaseException):
        return error
    return exceptions.PluginFailed(f"Model '{model_id}' failed: {error!r}")


def restore_outputs(outputs: Any, model_id: str) -> Sequence[Any]:
    """A batch's outputs as ``calls.answer`` sent them, each error ready to raise."""
    if not isinstance(outputs, list):
        return outputs  # type: ignore[no-any-return]  # split_batch checks it
    return [
        restore(out, model_id) if isinstance(out, BaseException | HTTPErrorRecipe) else out
        for out in outputs
    ]
