"""A training's inputs: its arguments as shown on the record, and its copied files.

The caller removes its temporary files once ``submit`` returns, so file arguments are
copied into the training's own directory first; the plugin gets the copies. Names on
disk are ours (a counter and a short, safe form of the name, keeping its suffix); the
sent name is only the ``original_filename`` metadata.
"""

from __future__ import annotations

import pickle
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deepaas_lite.model.uploads import UploadedFile

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STEM_MAX = 48
_SUFFIX_MAX = 16


def shown(args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments as the record shows them: a file is its name and content type."""
    return {key: _map_files(value, _describe) for key, value in args.items()}


def keep_files(args: Mapping[str, Any], directory: Path) -> dict[str, Any]:
    """Copy every file argument into ``directory``; the arguments with the copies.

    Blocking: run it in a thread.
    """
    copies: list[UploadedFile] = []

    def copy(upload: UploadedFile) -> UploadedFile:
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{len(copies)}-{_disk_name(upload)}"
        shutil.copyfile(upload.filename, target)
        copies.append(upload._replace(filename=str(target)))
        return copies[-1]

    return {key: _map_files(value, copy) for key, value in args.items()}


def pack(kwargs: Mapping[str, Any]) -> bytes:
    """The arguments pickled for the training process; unpicklable ones as ``str``."""
    return pickle.dumps({key: _picklable(value) for key, value in kwargs.items()})


def unpack(data: bytes) -> dict[str, Any]:
    kwargs: dict[str, Any] = pickle.loads(data)
    return kwargs


def _disk_name(upload: UploadedFile) -> str:
    """A short, safe name for a copy: ``../my data (1).csv`` -> ``my_data_1_.csv``."""
    name = Path(_UNSAFE.sub("_", Path(upload.original_filename).name).lstrip("."))
    suffix = name.suffix if len(name.suffix) <= _SUFFIX_MAX else ""
    stem = name.name[: len(name.name) - len(suffix)][:_STEM_MAX]
    return stem + suffix if stem else _UNSAFE.sub("_", upload.name)[:_STEM_MAX] or "file"


def _describe(upload: UploadedFile) -> dict[str, str]:
    return {
        "original_filename": upload.original_filename,
        "content_type": upload.content_type,
    }


def _map_files(value: Any, function: Callable[[UploadedFile], Any]) -> Any:
    """Apply ``function`` to a file argument, or to each file in a list or a dict of
    them (an inference's calls: a list of arguments)."""
    if isinstance(value, UploadedFile):
        return function(value)
    if isinstance(value, dict):
        return {key: _map_files(item, function) for key, item in value.items()}
    if isinstance(value, list | tuple) and any(isinstance(item, _HOLDERS) for item in value):
        return [_map_files(item, function) for item in value]
    return value


_HOLDERS = (UploadedFile, dict, list)


def _picklable(value: Any) -> Any:
    try:
        pickle.dumps(value)
    except Exception:
        return str(value)
    return value
