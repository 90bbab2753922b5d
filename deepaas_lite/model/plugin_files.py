"""Plugins served from a file, with no packaging (``--plugin [ID=]PATH[:OBJECT]``).

The file is imported as a module named after it, with its directory first on
``sys.path`` (so it may import its neighbours); ``OBJECT`` names a module attribute
(dotted for a nested one): a class, instantiated once as usual, or any object. The
id is ``ID`` when given, else the file's name without ``.py``.

The files the server serves are told to the processes it starts (trainings, predict
workers, Ray tasks and actors) by the environment variable ``DEEPAAS_LITE_PLUGINS``
(a JSON object: id -> spec, with absolute paths), so that they load the same plugin
from the same path.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from deepaas_lite import exceptions

ENV = "DEEPAAS_LITE_PLUGINS"

_OBJECT = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class PluginFile:
    """One ``--plugin`` value: where the plugin is, and the id it is served as."""

    id: str
    path: Path
    object: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.path}:{self.object}" if self.object else str(self.path)

    @property
    def module_name(self) -> str:
        return self.path.stem

    def load(self) -> Any:
        """The plugin's target: the module, or its ``OBJECT`` (not yet instantiated)."""
        target: Any = _import(self.path)
        for name in self.object.split(".") if self.object else ():
            try:
                target = getattr(target, name)
            except AttributeError:
                raise exceptions.ModelLoadError(
                    f"Model '{self.id}': {self.path} has no attribute '{self.object}'"
                ) from None
        return target

    def description(self) -> dict[str, Any]:
        """What describes a plugin without a distribution: its id and where it is."""
        return {"name": self.id, "description": f"Served from {self.spec}"}


def parse(value: str, base: Path | None = None) -> PluginFile:
    """``[ID=]PATH[:OBJECT]`` -> a ``PluginFile`` with an absolute path.

    Raises ``ModelLoadError`` (one line) when the value or the file is not usable.
    """
    given_id, sep, rest = value.partition("=")
    if not sep or not _ID.match(given_id):
        given_id, rest = "", value
    path_text, obj = _split(rest)
    path = Path(path_text).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    path = path.resolve()
    if path.suffix != ".py" or not path.is_file():
        raise exceptions.ModelLoadError(f"--plugin {value}: {path} is not a Python file")
    model_id = given_id or path.stem
    if not _ID.match(model_id):
        raise exceptions.ModelLoadError(
            f"--plugin {value}: '{model_id}' cannot be a model id; name it with ID=PATH"
        )
    return PluginFile(model_id, path, obj or None)


def parse_all(values: Sequence[str]) -> dict[str, PluginFile]:
    """Every ``--plugin`` value, by id; ``ModelLoadError`` when two share an id."""
    out: dict[str, PluginFile] = {}
    for value in values:
        plugin = parse(value)
        if plugin.id in out:
            raise exceptions.ModelLoadError(
                f"--plugin {value}: the id '{plugin.id}' is taken by "
                f"{out[plugin.id].spec}; name one with ID=PATH"
            )
        out[plugin.id] = plugin
    return out


def _split(spec: str) -> tuple[str, str]:
    """``PATH[:OBJECT]`` -> ``(PATH, OBJECT or "")``."""
    path, colon, obj = spec.rpartition(":")
    if not colon or not _OBJECT.match(obj):
        return spec, ""
    return path, obj


def export(plugins: Mapping[str, PluginFile]) -> None:
    """Tell the processes this one starts which files it serves (``ENV``)."""
    if plugins:
        os.environ[ENV] = json.dumps({pid: p.spec for pid, p in plugins.items()})
    else:
        os.environ.pop(ENV, None)


def exported() -> dict[str, PluginFile]:
    """The files the server told this process about; ``{}`` when none."""
    text = os.environ.get(ENV)
    if not text:
        return {}
    try:
        specs = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(specs, dict):
        return {}
    out: dict[str, PluginFile] = {}
    for model_id, spec in specs.items():
        path, obj = _split(str(spec))
        out[str(model_id)] = PluginFile(str(model_id), Path(path), obj or None)
    return out


def _import(path: Path) -> ModuleType:
    """Import ``path`` as the module named after it, its directory first on ``sys.path``."""
    name = path.stem
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == path:
            return loaded
        raise exceptions.ModelLoadError(
            f"{path}: a module named '{name}' is already imported from "
            f"{getattr(loaded, '__file__', None) or 'elsewhere'}; rename the file"
        )
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise exceptions.ModelLoadError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
