"""What the API documents read of a route: its ``Operation`` and the ``RouteLike`` shape.

A route (``web/routes.py``) carries the ``Operation`` that documents it; the builders
(``openapi3.py``, ``swagger2.py``) call its functions. Nothing here knows the web layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from deepaas_lite.http_errors import Meaning

Build = Callable[..., dict[str, Any] | None]
"""``(builder, model)`` -> the operation as a dict; ``model`` is ``None`` on a path
without ``{model_id}``. ``None``: this model has no such operation."""


@dataclass(frozen=True)
class Operation:
    """How both API documents describe one route.

    ``name`` is the operation id (``<model id>.<name>`` on a model's path);
    ``openapi3`` builds the OpenAPI 3 operation; ``swagger2`` the Swagger 2.0 one from
    the argument schemas (predict and train, in DEEPaaS's shape); without it, the
    Swagger 2.0 operation is converted from the OpenAPI 3 one.
    """

    name: str
    summary: str
    openapi3: Build
    swagger2: Build | None = None


class RouteLike(Protocol):
    """What the documents need of a route (``web.routes.Route``)."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def doc(self) -> Operation | None: ...

    @property
    def errors(self) -> Sequence[Meaning]:
        """Every error the route can answer with (``http_errors``)."""
        ...
