"""What the API documents read of a route: its ``Operation`` and the ``RouteLike`` shape.

A route (``web/routes.py``) carries the ``Operation`` that documents it; the builders
(``openapi3.py``, ``swagger2.py``) call its functions, each on every ``Placement``
(a documented route on one model, or on none). Nothing here knows the web layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from deepaas_lite.http_errors import Meaning
from deepaas_lite.model.wrapper import ModelWrapper

MODEL_ID = "{model_id}"
API_TAG = {"name": "api", "description": "The API itself"}
INFERENCE_TAG = {
    "name": "inference",
    "description": "The Open Inference Protocol (KServe V2): tensors in, tensors out, "
    "for KServe, Triton and MLServer clients. Each argument is an input tensor.",
}

Build = Callable[..., dict[str, Any] | None]
"""``(builder, model)`` -> the operation as a dict; ``model`` is ``None`` on a path
without ``{model_id}``. ``None``: this model has no such operation."""


@dataclass(frozen=True)
class Operation:
    """How both API documents describe one route.

    ``name`` is the operation id (``<model id>.<name>`` on a model's path);
    ``openapi3`` builds the OpenAPI 3 operation; ``swagger2`` the Swagger 2.0 one from
    the argument schemas (predict and train, in DEEPaaS's shape); without it, the
    Swagger 2.0 operation is converted from the OpenAPI 3 one. ``tag`` groups it under
    a tag of its own instead of the model's; ``deepaas`` ``False`` leaves it out of the
    DEEPaaS-shaped Swagger 2.0 document (the Open Inference Protocol's routes).
    """

    name: str
    summary: str
    openapi3: Build
    swagger2: Build | None = None
    tag: str | None = None
    deepaas: bool = True


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


@dataclass(frozen=True)
class Placement:
    """A documented route on one model (``model`` ``None``: a path without a model)."""

    route: RouteLike
    doc: Operation
    model: ModelWrapper | None
    path: str
    """``route.path`` with ``model``'s id in it."""

    def label(self, operation: dict[str, Any], errors: Mapping[str, Any]) -> None:
        """Give ``operation`` its ``errors`` responses, tag, summary and operation id."""
        operation["responses"].update(errors)
        tag = self.doc.tag or ("api" if self.model is None else self.model.id)
        name = self.doc.name if self.model is None else f"{self.model.id}.{self.doc.name}"
        operation.update({"tags": [tag], "summary": self.doc.summary, "operationId": name})


def placements(
    routes: Iterable[RouteLike], models: Mapping[str, ModelWrapper]
) -> Iterator[Placement]:
    """Every documented route, once per model on a ``{model_id}`` path, else once."""
    for route in routes:
        doc = route.doc
        if doc is None:
            continue
        if MODEL_ID not in route.path:
            yield Placement(route, doc, None, route.path)
            continue
        for model in models.values():
            yield Placement(route, doc, model, route.path.replace(MODEL_ID, model.id))
