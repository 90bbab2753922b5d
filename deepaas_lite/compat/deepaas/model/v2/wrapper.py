"""``deepaas.model.v2.wrapper``: the file types a plugin receives and may return.

``UploadedFile`` *is* deepaas-lite's own class, so a plugin's
``isinstance(arg, UploadedFile)`` holds for the uploads the server hands it, in the
server and in worker and training processes alike.
"""

from __future__ import annotations

from typing import NamedTuple

from deepaas_lite.model.uploads import UploadedFile

__all__ = ["ReturnedFile", "UploadedFile"]


class ReturnedFile(NamedTuple):
    """A file a plugin returns from ``predict``; its bytes are the (non-JSON) answer."""

    name: str | None = None
    filename: str | None = None
    content_type: str | None = None
    original_filename: str | None = None
