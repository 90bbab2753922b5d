"""What trainings mean for the model store (``model/store.py``).

A training that ends ``done`` having written a version makes it current; one that ends
otherwise leaves nothing (its directory is removed). The record of a training that
wrote a version names it. Deleting a training removes its version, unless that is the
current one (``VersionInUse``, 409). Whoever serves the models listens for new current
versions (``listen``) to load them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from deepaas_lite import exceptions
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training.records import Status

LOG = logging.getLogger(__name__)

Listener = Callable[[str, "str | None"], None]

# Trainings that end so leave no version.
_NO_VERSION = {Status.ERROR.value, Status.CANCELLED.value, Status.INTERRUPTED.value}


class Versions:
    """The versions of the served models, as trainings make and remove them."""

    def __init__(self, models: Mapping[str, ModelWrapper]) -> None:
        self._models = models
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call ``listener(model_id, version)`` when a model's current version changes."""
        self._listeners.append(listener)

    def _store(self, model_id: str) -> Any:
        try:
            model = self._models[model_id]
        except KeyError:
            raise exceptions.ModelNotFound(f"Model '{model_id}' not found") from None
        return model.store

    async def ended(self, model_id: str, uuid: str, status: Status) -> None:
        """A training has ended with ``status``: keep its version, or remove it."""
        store = self._store(model_id)
        if store is None:
            return
        if status is Status.DONE:
            if await asyncio.to_thread(store.add, uuid):
                LOG.info("Model '%s': version %s is current", model_id, uuid)
                self._tell(model_id, uuid)
        else:
            await asyncio.to_thread(store.discard, uuid)

    async def make_current(self, model_id: str, version: str) -> dict[str, Any]:
        """Make a stored version current again; the store as ``describe`` shows it."""
        store = self._store(model_id)
        if store is None:
            raise exceptions.VersionNotFound(f"Model '{model_id}' has no model store")
        await asyncio.to_thread(store.make_current, version)
        LOG.info("Model '%s': version %s made current again", model_id, version)
        self._tell(model_id, version)
        return self.describe(model_id)

    async def removable(self, model_id: str, uuid: str) -> None:
        """Raise ``VersionInUse`` when training ``uuid`` wrote the current version."""
        store = self._store(model_id)
        if store is not None and await asyncio.to_thread(store.current) == uuid:
            raise exceptions.VersionInUse(
                f"Training '{uuid}' wrote the current version of model '{model_id}': make "
                "another version current first"
            )

    async def remove(self, model_id: str, uuids: Iterable[str]) -> None:
        """Remove the versions of removed trainings (never the current one)."""
        store = self._store(model_id)
        if store is None:
            return
        current = await asyncio.to_thread(store.current)
        for uuid in uuids:
            if uuid != current:
                await asyncio.to_thread(store.discard, uuid)

    async def clean(self, keep: set[str]) -> None:
        """At start: remove what trainings that did not end ``done`` left behind."""
        for model in self._models.values():
            if model.store is not None:
                await asyncio.to_thread(model.store.remove_unfinished, keep)

    def describe(self, model_id: str) -> dict[str, Any]:
        """``{"current", "served", "versions"}``: the store, and the version served;
        ``"failed"`` names the last version that could not be loaded, and why."""
        model = self._models[model_id]
        if model.store is None:
            return {"current": None, "served": None, "versions": []}
        out = {**model.store.describe(), "served": model.version}
        if model.load_failure is not None:
            version, message = model.load_failure
            out["failed"] = {"version": version, "message": message}
        return out

    def annotate(self, model_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` naming the version its training wrote, when it wrote one (a training
        that ended otherwise than ``done`` has none, even while its directory is being
        removed)."""
        if record.get("status") in _NO_VERSION:
            return record
        store = self._models[model_id].store if model_id in self._models else None
        if store is not None and store.written(record["uuid"]):
            record["version"] = record["uuid"]
        return record

    def _tell(self, model_id: str, version: str | None) -> None:
        for listener in self._listeners:
            try:
                listener(model_id, version)
            except Exception:
                LOG.exception("Model '%s': telling about version %s failed", model_id, version)
