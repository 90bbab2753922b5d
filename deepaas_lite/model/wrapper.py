"""One plugin behind one facade: metadata, schemas, warm, predict and train.

Every plugin attribute is optional; this is the only module that looks at them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import Schema

from deepaas_lite import exceptions
from deepaas_lite.compat.deepaas.model.v2.wrapper import ReturnedFile
from deepaas_lite.model import args
from deepaas_lite.model.output import finite

LOG = logging.getLogger(__name__)


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

    def __post_init__(self) -> None:
        self.predict_schema = args.to_schema(self._call_optional("get_predict_args"))
        self.train_schema = args.to_schema(self._call_optional("get_train_args"))
        response = getattr(self.plugin, "schema", None)
        self.response_schema = None if response is None else args.to_schema(response)

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
        """Run the plugin's ``warm()``, if it has one."""
        warm = getattr(self.plugin, "warm", None)
        if warm is not None:
            warm()

    def predict(self, kwargs: Mapping[str, Any]) -> Any:
        """Run ``predict`` (or a ``predict_batch`` of one); plugin exceptions propagate."""
        predict = getattr(self.plugin, "predict", None)
        if callable(predict):
            return _returned(predict(**kwargs))
        if not self.can_predict_batch:
            raise exceptions.NotImplementedByModel(f"Model '{self.id}' does not implement predict")
        (output,) = self.split_batch(1, self.predict_batch([kwargs]))
        if isinstance(output, BaseException):
            raise output
        return output

    def predict_batch(self, batch: Sequence[Mapping[str, Any]]) -> Any:
        """Run ``predict_batch`` on a list of requests' arguments; exceptions propagate."""
        return self.plugin.predict_batch([dict(kwargs) for kwargs in batch])

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

    def train(self, kwargs: Mapping[str, Any]) -> Any:
        """Run ``train``; the plugin's exceptions propagate unchanged."""
        if not self.can_train:
            raise exceptions.NotImplementedByModel(f"Model '{self.id}' does not implement train")
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
    """A DEEPaaS ``ReturnedFile`` is answered with its file's bytes, read right away.

    (The plugin may have written it next to an upload, which is removed after the call.)
    """
    if isinstance(output, ReturnedFile) and output.filename:
        return Path(output.filename).read_bytes()
    return output
