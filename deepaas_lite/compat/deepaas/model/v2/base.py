"""``deepaas.model.v2.base``: the abstract plugin class DEEPaaS-era plugins subclass.

A plugin need not subclass it; deepaas-lite reads every attribute as optional. A
subclass must define the abstract methods, as under DEEPaaS.
"""

from __future__ import annotations

import abc
from typing import Any


class BaseModel(abc.ABC):
    """What a DEEPaaS v2 model exposes; see deepaas-lite's plugin guide for each."""

    schema: Any = None
    """A marshmallow ``Schema`` (or dict of fields) for ``predict``'s output, or ``None``."""

    @abc.abstractmethod
    def get_metadata(self) -> dict[str, Any]:
        """The model's description (name, description, author, license, url, version)."""

    @abc.abstractmethod
    def get_predict_args(self) -> dict[str, Any]:
        """The arguments of ``predict``: a dict of marshmallow/webargs fields."""

    @abc.abstractmethod
    def predict(self, **kwargs: Any) -> Any:
        """A prediction from the arguments ``get_predict_args`` declares."""

    @abc.abstractmethod
    def get_train_args(self) -> dict[str, Any]:
        """The arguments of ``train``: a dict of marshmallow/webargs fields."""

    @abc.abstractmethod
    def train(self, **kwargs: Any) -> Any:
        """A training from the arguments ``get_train_args`` declares."""
