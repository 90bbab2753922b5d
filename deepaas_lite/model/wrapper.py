"""One plugin behind one facade: metadata, schemas, warm, predict and train.

Every plugin attribute is optional; this is the only module that looks at them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

from deepaas_lite import exceptions
from deepaas_lite.model import args

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
        return callable(getattr(self.plugin, "predict", None))

    @property
    def can_train(self) -> bool:
        return callable(getattr(self.plugin, "train", None))

    @property
    def accept_choices(self) -> list[str]:
        return args.accept_choices(self.predict_schema)

    def metadata(self) -> dict[str, Any]:
        """The plugin's ``get_metadata()``, or the distribution's when it has none."""
        get_metadata = getattr(self.plugin, "get_metadata", None)
        if get_metadata is None:
            return dict(self.dist_metadata)
        return dict(get_metadata())

    def warm(self) -> None:
        """Run the plugin's ``warm()``, if it has one."""
        warm = getattr(self.plugin, "warm", None)
        if warm is not None:
            warm()

    def predict(self, kwargs: Mapping[str, Any]) -> Any:
        """Run ``predict``; the plugin's exceptions propagate unchanged."""
        if not self.can_predict:
            raise exceptions.NotImplementedByModel(f"Model '{self.id}' does not implement predict")
        return self.plugin.predict(**kwargs)

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
