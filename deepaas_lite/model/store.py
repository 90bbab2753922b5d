"""The model store: each model's trained versions, and which one is current.

A model's store is ``<store>/<id>/`` (``--model-store-dir``, default
``<state dir>/models``): one directory per version under ``versions/`` (named by the
uuid of the training that wrote it), and ``store.json``,
which lists the finished versions and names the current one. The server is its only
writer; it replaces ``store.json`` atomically (a temporary file, then ``os.replace``), so
every reader, in any process, sees the old current version or the new one.

A plugin finds its directory with ``deepaas_lite.model_dir()``: inside ``train``, the new
version's directory (created on the first call); inside ``warm``, ``load``, ``predict``,
the directory of the version it serves. Before the first training there is none:
``model_dir()`` is then a directory that does not exist. Plugins that never call it
(DEEPaaS-era ones, which manage their own paths) get no versions at all.

The processes the server starts learn where the store is from ``ENV``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepaas_lite import exceptions

ENV = "DEEPAAS_LITE_MODEL_STORE"
INDEX = "store.json"
VERSIONS = "versions"
# What model_dir() is before the first training: never created.
UNTRAINED = "untrained"


@dataclass(frozen=True)
class Version:
    """A finished version: its name (the training's uuid) and when it was stored."""

    version: str
    date: str

    def as_json(self, current: str | None) -> dict[str, Any]:
        return {"version": self.version, "date": self.date, "current": self.version == current}


class ModelStore:
    """One model's versions under ``root/<model id>``."""

    def __init__(self, root: Path, model_id: str) -> None:
        self.model_id = model_id
        self.directory = root / model_id
        self._lock = threading.Lock()

    def path(self, version: str | None) -> Path:
        """Where ``version`` lives (``None``: the untrained directory, never created)."""
        if version is None:
            return self.directory / UNTRAINED
        return self.directory / VERSIONS / version

    def _index(self) -> dict[str, Any]:
        try:
            data = json.loads((self.directory / INDEX).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"current": None, "versions": []}
        return data if isinstance(data, dict) else {"current": None, "versions": []}

    def current(self) -> str | None:
        """The current version, as every process reads it."""
        current = self._index().get("current")
        return current if isinstance(current, str) else None

    def versions(self) -> list[Version]:
        """The finished versions, oldest first."""
        return [Version(str(v["version"]), str(v["date"])) for v in self._index()["versions"]]

    def describe(self) -> dict[str, Any]:
        """``{"current": ..., "versions": [...]}`` as the API shows it."""
        index = self._index()
        current = index.get("current")
        return {
            "current": current,
            "versions": [
                Version(str(v["version"]), str(v["date"])).as_json(current)
                for v in index["versions"]
            ],
        }

    def written(self, version: str) -> bool:
        """Whether the training ``version`` wrote a directory (called ``model_dir()``)."""
        return self.path(version).is_dir()

    def add(self, version: str) -> bool:
        """Store the version a training that ended ``done`` wrote, and make it current
        (atomically); ``False`` when that training wrote none."""
        if not self.written(version):
            return False
        with self._lock:
            index = self._index()
            versions = [v for v in index["versions"] if v["version"] != version]
            date = str(datetime.datetime.now())
            versions.append({"version": version, "date": date})
            self._write({"current": version, "versions": versions})
        return True

    def make_current(self, version: str) -> None:
        """Make a finished version current again (atomically); ``VersionNotFound``."""
        with self._lock:
            index = self._index()
            if not any(v["version"] == version for v in index["versions"]):
                raise exceptions.VersionNotFound(
                    f"Model '{self.model_id}' has no version '{version}'"
                )
            self._write({**index, "current": version})

    def discard(self, version: str) -> None:
        """Remove a version and its directory; ``VersionInUse`` for the current one."""
        with self._lock:
            index = self._index()
            if index.get("current") == version:
                raise exceptions.VersionInUse(
                    f"Version '{version}' of model '{self.model_id}' is current: make "
                    "another version current first"
                )
            versions = [v for v in index["versions"] if v["version"] != version]
            if len(versions) != len(index["versions"]):
                self._write({**index, "versions": versions})
        shutil.rmtree(self.path(version), ignore_errors=True)

    def remove_unfinished(self, keep: set[str]) -> None:
        """Remove version directories no finished version or ``keep`` (trainings that may
        still write) names: what failed, cancelled or interrupted trainings left."""
        known = {v.version for v in self.versions()} | keep
        with contextlib.suppress(FileNotFoundError):
            for entry in (self.directory / VERSIONS).iterdir():
                if entry.name not in known:
                    shutil.rmtree(entry, ignore_errors=True)

    def _write(self, index: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{INDEX}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(index, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.directory / INDEX)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def export(root: Path) -> Path:
    """Tell this process and those it starts where the store is (``root``)."""
    os.environ[ENV] = str(root)
    return root


def exported(model_id: str) -> ModelStore | None:
    """The store of ``model_id`` this process was told about; ``None`` outside a server."""
    root = os.environ.get(ENV)
    return ModelStore(Path(root), model_id) if root else None


@dataclass(frozen=True)
class Binding:
    """What ``model_dir()`` answers within a plugin call: ``version``'s directory."""

    store: ModelStore | None
    version: str | None
    training: bool = False


BOUND: contextvars.ContextVar[Binding | None] = contextvars.ContextVar(
    "deepaas_lite_model_dir", default=None
)


@contextlib.contextmanager
def bound(store: ModelStore | None, version: str | None, training: bool = False) -> Iterator[None]:
    """Within: ``model_dir()`` is ``version``'s directory of ``store``."""
    token = BOUND.set(Binding(store, version, training))
    try:
        yield
    finally:
        BOUND.reset(token)


def model_dir() -> Path:
    """The calling plugin's directory for its trained artefacts (see the module's doc).

    Raises ``RuntimeError`` when called outside a plugin call made by deepaas-lite, or
    by a server that has no state directory.
    """
    binding = BOUND.get()
    if binding is None:
        raise RuntimeError(
            "deepaas_lite.model_dir() is only known inside a plugin call (train, warm, "
            "load, predict) made by deepaas-lite"
        )
    if binding.store is None:
        raise RuntimeError("deepaas_lite.model_dir(): this server has no model store")
    path = binding.store.path(binding.version)
    if binding.training:
        path.mkdir(parents=True, exist_ok=True)
    return path
