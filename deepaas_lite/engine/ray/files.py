"""File arguments across machines: a Ray node may not share this server's disk.

The server sends each file's content with the arguments (``pack``); the worker on the
cluster writes them into a directory of its own and hands the plugin those paths
(``unpack``), so ``UploadedFile.filename`` is always a local path where ``predict`` or
``train`` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deepaas_lite.model.uploads import UploadedFile

Contents = dict[str, bytes]


def has_files(kwargs: Mapping[str, Any]) -> bool:
    found: list[UploadedFile] = []

    def note(upload: UploadedFile) -> UploadedFile:
        found.append(upload)
        return upload

    _each_file(kwargs, note)
    return bool(found)


def pack(kwargs: Mapping[str, Any]) -> Contents:
    """The content of every file argument, by its path here. Blocking."""
    contents: Contents = {}

    def read(upload: UploadedFile) -> UploadedFile:
        contents[upload.filename] = Path(upload.filename).read_bytes()
        return upload

    _each_file(kwargs, read)
    return contents


def unpack(kwargs: Mapping[str, Any], contents: Contents, directory: Path) -> dict[str, Any]:
    """The arguments with every file written into ``directory``. Blocking."""
    written: dict[str, str] = {}

    def write(upload: UploadedFile) -> UploadedFile:
        if upload.filename not in written:
            directory.mkdir(parents=True, exist_ok=True)
            target = directory / f"{len(written)}-{Path(upload.filename).name}"
            target.write_bytes(contents[upload.filename])
            written[upload.filename] = str(target)
        return upload._replace(filename=written[upload.filename])

    return {key: _map(value, write) for key, value in kwargs.items()}


def _each_file(kwargs: Mapping[str, Any], visit: Callable[[UploadedFile], UploadedFile]) -> None:
    for value in kwargs.values():
        _map(value, visit)


def _map(value: Any, function: Callable[[UploadedFile], UploadedFile]) -> Any:
    if isinstance(value, UploadedFile):
        return function(value)
    if isinstance(value, list | tuple) and any(isinstance(item, UploadedFile) for item in value):
        return [_map(item, function) for item in value]
    return value
