"""The value a plugin receives for a file argument."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

OCTET_STREAM = "application/octet-stream"


class UploadedFile(NamedTuple):
    """A file sent by the client, saved to a temporary path.

    ``filename`` is that path: it exists while the plugin runs and is removed after
    the call (for ``train``, after the training has ended).
    """

    name: str
    filename: str
    content_type: str
    original_filename: str


class SavedFiles:
    """Files of one call saved from bytes (the Open Inference Protocol's file inputs);
    ``cleanup()`` removes them all."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._saved = 0

    def save(self, name: str, content: bytes, parameters: Mapping[str, Any]) -> UploadedFile:
        """``content`` as the file argument ``name``; ``parameters`` may name its
        ``content_type`` and ``filename``."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="deepaas-lite-upload-"))
        target = self._dir / f"{self._saved}-{Path(name).name}"
        self._saved += 1
        target.write_bytes(content)
        content_type = parameters.get("content_type")
        filename = parameters.get("filename")
        return UploadedFile(
            name=name,
            filename=str(target),
            content_type=content_type if isinstance(content_type, str) else OCTET_STREAM,
            original_filename=filename if isinstance(filename, str) else name,
        )

    def cleanup(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
