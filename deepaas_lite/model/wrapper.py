"""One plugin behind one facade: metadata, schemas, warm, predict and train.

Every plugin attribute is optional; this is the only module that looks at them.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import Schema

from deepaas_lite import exceptions
from deepaas_lite.compat.deepaas.model.v2.wrapper import ReturnedFile
from deepaas_lite.model import args
from deepaas_lite.model.output import finite
from deepaas_lite.model.store import BOUND, Binding, ModelStore, bound, exported

LOG = logging.getLogger(__name__)

JSON = "application/json"

FIRST_LOAD_WAIT = 120.0
"""Seconds a prediction the plugin refuses as not ready waits for the first version a
copy loads (nothing is served before it: the alternative is a 503)."""


@dataclass
class ModelWrapper:
    """A loaded plugin, ready to serve."""

    id: str
    plugin: Any
    dist_metadata: Mapping[str, Any] = field(default_factory=dict)
    predict_schema: Schema = field(init=False)
    train_schema: Schema = field(init=False)
    response_schema: Schema | None = field(init=False)
    _metadata_logged: bool = field(init=False, default=False, repr=False)
    _not_finite_logged: bool = field(init=False, default=False, repr=False)
    # The model store, and the version this copy of the plugin serves (None: untrained).
    store: ModelStore | None = field(init=False, default=None)
    version: str | None = field(init=False, default=None)
    # The last version that could not be loaded, and why (the previous one serves).
    load_failure: tuple[str | None, str] | None = field(init=False, default=None)
    _binding: Binding = field(init=False, repr=False)
    _loads: _Loads = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.attach(exported(self.id))
        self._loads = _Loads()
        self.predict_schema = args.to_schema(self._call_optional("get_predict_args"))
        self.train_schema = args.to_schema(self._call_optional("get_train_args"))
        response = getattr(self.plugin, "schema", None)
        self.response_schema = None if response is None else args.to_schema(response)

    def attach(self, model_store: ModelStore | None) -> None:
        """Use ``model_store`` (``model_dir()`` inside the plugin's calls)."""
        self.store = model_store
        self._binding = Binding(model_store, self.version)

    def _serve(self, version: str | None) -> None:
        self.version = version
        self._binding = Binding(self.store, version)
        self.load_failure = None  # it serves a version it could load: no failure stands

    def mark_served(self, version: str | None) -> None:
        """Say that ``version`` is what this model serves (its copies elsewhere load it)."""
        self._serve(version)

    def load_version(self, version: str | None) -> None:
        """Serve ``version`` from now on: the plugin's ``load(path)``, else ``warm()``
        again, with ``model_dir()`` its directory; the previous version serves until it
        returns. Its exceptions propagate (the previous version stays)."""
        load = getattr(self.plugin, "load", None)
        assert self.store is not None
        with bound(self.store, version):
            if callable(load):
                load(self.store.path(version))
            else:
                self._warm_plugin()
        self._serve(version)

    def start_loading(self, version: str | None) -> tuple[int, str]:
        """Load ``version`` in a thread of this process, unless it is served or loading:
        ``(pid, "loaded" | "loading" | "failed: <why>")`` (a worker's answer)."""
        return os.getpid(), self._loads.request(self, version)

    def _call_optional(self, name: str) -> Any:
        method = getattr(self.plugin, name, None)
        return None if method is None else method()

    @property
    def can_predict(self) -> bool:
        """``predict``, or ``predict_batch`` alone (a request is then a batch of one)."""
        return callable(getattr(self.plugin, "predict", None)) or self.can_predict_batch

    @property
    def can_predict_batch(self) -> bool:
        return callable(getattr(self.plugin, "predict_batch", None))

    def batch_defaults(self) -> tuple[int | None, float | None]:
        """The plugin's own ``max_batch_size`` and ``max_batch_delay``, when it sets them."""
        size = getattr(self.plugin, "max_batch_size", None)
        delay = getattr(self.plugin, "max_batch_delay", None)
        return (None if size is None else int(size), None if delay is None else float(delay))

    @property
    def can_train(self) -> bool:
        return callable(getattr(self.plugin, "train", None))

    @property
    def accept_choices(self) -> list[str]:
        return args.accept_choices(self.predict_schema)

    def answer_type(self, kwargs: Mapping[str, Any]) -> str:
        """The media type ``predict``'s output for ``kwargs`` is answered as: the
        negotiated ``accept`` argument, or JSON for a model without one."""
        return str(kwargs.get(args.ACCEPT, JSON)) if self.accept_choices else JSON

    @property
    def predict_example(self) -> Any:
        """The plugin's ``predict_example``: what ``predict`` answers for its arguments'
        examples, shown in the document; ``None`` when it gives none."""
        return getattr(self.plugin, "predict_example", None)

    def metadata(self) -> dict[str, Any]:
        """The plugin's ``get_metadata()``, or the distribution's when it has none.

        A ``get_metadata()`` that raises (or returns no mapping) is logged once and the
        distribution's description is used instead; NaN and Infinity (not JSON) become
        ``None``, logged once too: one plugin never breaks a listing.
        """
        get_metadata = getattr(self.plugin, "get_metadata", None)
        if get_metadata is None:
            return dict(self.dist_metadata)
        try:
            metadata = dict(get_metadata())
        except Exception as exc:
            if not self._metadata_logged:
                self._metadata_logged = True
                LOG.error(
                    "Model '%s': get_metadata() failed: %r; described from its distribution",
                    self.id,
                    exc,
                )
            return dict(self.dist_metadata)
        safe, places = finite(metadata)
        if places and not self._not_finite_logged:
            self._not_finite_logged = True
            LOG.warning(
                "Model '%s': get_metadata() holds values that are not JSON (%s); "
                "they are sent as null",
                self.id,
                ", ".join(places),
            )
        result: dict[str, Any] = safe
        return result

    def warm(self) -> None:
        """Serve the current version: run the plugin's ``warm()``, if it has one, with
        ``model_dir()`` its directory."""
        self._serve(None if self.store is None else self.store.current())
        with bound(self.store, self.version):
            self._warm_plugin()

    def _warm_plugin(self) -> None:
        warm = getattr(self.plugin, "warm", None)
        if warm is not None:
            warm()

    def predict(self, kwargs: Mapping[str, Any]) -> Any:
        """Run ``predict`` (or a ``predict_batch`` of one); plugin exceptions propagate."""
        predict = getattr(self.plugin, "predict", None)
        if callable(predict):
            try:
                return self._predict(predict, kwargs)
            except exceptions.ModelNotReady:
                if not self._waited_for_first_version():
                    raise
            return self._predict(predict, kwargs)
        if not self.can_predict_batch:
            raise exceptions.NotImplementedByModel(f"Model '{self.id}' does not implement predict")
        (output,) = self.split_batch(1, self.predict_batch([kwargs]))
        if isinstance(output, BaseException):
            raise output
        return output

    def _predict(self, predict: Any, kwargs: Mapping[str, Any]) -> Any:
        token = BOUND.set(self._binding)
        try:
            return _returned(predict(**kwargs))
        finally:
            BOUND.reset(token)

    def _waited_for_first_version(self) -> bool:
        """When this copy serves no version yet and is loading one, wait until it has
        (the plugin said it is not ready: without a version it cannot be). Never on an
        event loop's thread, which must not block. Whether it waited."""
        if self.version is not None or not self._loads.running:
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._loads.wait(FIRST_LOAD_WAIT)
        return False

    def predict_batch(self, batch: Sequence[Mapping[str, Any]]) -> Any:
        """Run ``predict_batch`` on a list of requests' arguments; exceptions propagate."""
        token = BOUND.set(self._binding)
        try:
            return self.plugin.predict_batch([dict(kwargs) for kwargs in batch])
        finally:
            BOUND.reset(token)

    def split_batch(self, count: int, outputs: Any) -> list[Any]:
        """``predict_batch``'s outputs, one per request (an exception fails only its own).

        Raises ``PluginFailed`` when the outputs are not a list of ``count`` items.
        """
        if not isinstance(outputs, list | tuple) or len(outputs) != count:
            got = (
                f"{len(outputs)} outputs"
                if isinstance(outputs, list | tuple)
                else (f"a {type(outputs).__name__}")
            )
            raise exceptions.PluginFailed(
                f"Model '{self.id}' predict_batch returned {got} for {count} requests"
            )
        return list(outputs)

    def train(self, kwargs: Mapping[str, Any], version: str | None = None) -> Any:
        """Run ``train``, ``model_dir()`` being ``version``'s new directory (when given);
        the plugin's exceptions propagate unchanged."""
        if not self.can_train:
            raise exceptions.NotImplementedByModel(f"Model '{self.id}' does not implement train")
        if version is None:
            return self.plugin.train(**kwargs)
        with bound(self.store, version, training=True):
            return self.plugin.train(**kwargs)

    def validate_output(self, output: Any) -> Any:
        """Check ``predict``'s output against the plugin's response ``schema``."""
        if self.response_schema is None:
            return output
        errors = self.response_schema.validate(output)
        if errors:
            raise exceptions.InvalidResponse(
                f"Model '{self.id}' returned output that does not match its "
                f"response schema: {errors}"
            )
        return output


def _returned(output: Any) -> Any:
    """A DEEPaaS ``ReturnedFile`` or an open file is answered with its content, read right
    away, where the call ran: the file may be next to an upload, which is removed after
    the call, and a file object cannot leave a worker process (it does not pickle)."""
    if isinstance(output, ReturnedFile) and output.filename:
        return Path(output.filename).read_bytes()
    if isinstance(output, io.IOBase):
        with output:
            return output.read()
    return output


class _Loads:
    """A copy of a plugin's loads of new versions, one at a time, in a thread: the
    latest version asked for is the one that ends up served. A version that failed to
    load answers its failure while it is asked for; asked for again after another
    version, it is loaded again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when no load runs
        self._wanted: str | None = None
        self._running = False
        self._failed: dict[str | None, str] = {}
        self._asked: list[str | None] = []  # the version asked for last, once asked

    @property
    def running(self) -> bool:
        with self._lock:
            return self._running

    def wait(self, timeout: float) -> bool:
        """Until no load runs, at most ``timeout`` seconds; whether none runs."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def _stopped(self) -> None:
        """(The lock held.) No load runs any more."""
        self._running = False
        self._idle.notify_all()

    def request(self, model: ModelWrapper, version: str | None) -> str:
        with self._lock:
            if self._asked != [version]:
                self._asked = [version]
                self._failed.clear()
            if version in self._failed:
                return f"failed: {self._failed[version]}"
            if model.version == version and not self._running:
                return "loaded"
            self._wanted = version
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._run, args=(model,), name="deepaas-load", daemon=True
                ).start()
            return "loading"

    def _run(self, model: ModelWrapper) -> None:
        while True:
            with self._lock:
                version = self._wanted
                if model.version == version:
                    self._stopped()
                    return
            try:
                model.load_version(version)
            except Exception as exc:
                LOG.exception("Model '%s' failed to load version %s", model.id, version)
                with self._lock:
                    self._failed[version] = repr(exc)
                    if self._wanted == version:
                        self._stopped()
                        return
