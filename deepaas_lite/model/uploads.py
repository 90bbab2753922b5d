"""The value a plugin receives for a file argument."""

from __future__ import annotations

from typing import NamedTuple


class UploadedFile(NamedTuple):
    """A file sent by the client, saved to a temporary path.

    ``filename`` is that path: it exists while the plugin runs and is removed after
    the call (for ``train``, after the training has ended).
    """

    name: str
    filename: str
    content_type: str
    original_filename: str
