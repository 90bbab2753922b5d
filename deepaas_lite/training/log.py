"""A training's log file: what its processes print, kept to a size.

The executor hands what the training and everything it starts print to the training's
sink (``sink.py``), which writes it here. With a cap, the file keeps the first half of
the cap and, once more was printed, the latest output after a line saying how much
was cut::

    [... 123456 bytes cut ...]

The tail may grow to the other half of the cap; then it is cut back to the last
quarter. The file is replaced atomically, so it can be read at any moment.

Output that cannot be written (a full disk) is counted, and the log says so as soon as
it can be written again, at the latest when it is closed::

    [... 42 bytes of output lost: No space left on device ...]
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class CappedLog:
    """A log file of at most ``max_bytes`` (0: no cap) plus the cut line. Blocking."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self._max = max_bytes
        self._head = max_bytes // 2
        self._keep = (max_bytes - self._head) // 2
        self._size = 0  # bytes in the file, cut line excluded
        self._cut = 0
        self._lost = 0  # bytes that could not be written, not yet said in the file
        self._lost_reason = ""
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()

    @property
    def cut(self) -> int:
        """How many bytes were left out."""
        return self._cut

    def write(self, data: bytes) -> None:
        """Append ``data``; an ``OSError`` (a full disk) is raised once it is counted."""
        try:
            if self._lost:
                self._say_lost()
            self._file.write(data)
        except OSError as exc:
            self._lost += len(data)
            self._lost_reason = exc.strerror or str(exc)
            raise
        self._size += len(data)
        if self._max and self._size > self._max:
            self._compact()

    def close(self) -> None:
        if self._lost:
            with contextlib.suppress(OSError):
                self._say_lost()
        self._file.close()

    def _say_lost(self) -> None:
        line = f"\n[... {self._lost} bytes of output lost: {self._lost_reason} ...]\n".encode()
        self._file.write(line)
        self._size += len(line)
        self._lost = 0

    def _compact(self) -> None:
        """Rewrite the file as its head, the cut line and the last quarter of the cap."""
        self._file.close()
        with open(self.path, "rb") as old:
            head = old.read(self._head)
            old.seek(-self._keep, os.SEEK_END)
            tail = old.read()
        self._cut += self._size - self._head - len(tail)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as new:
            new.write(head + self._marker(self._cut) + tail)
        os.replace(tmp, self.path)
        self._size = self._head + len(tail)
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115

    @staticmethod
    def _marker(cut: int) -> bytes:
        return f"\n[... {cut} bytes cut ...]\n".encode()
