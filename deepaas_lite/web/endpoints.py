"""DEEPaaS's endpoint switches: a disabled endpoint answers 404 and leaves the documents.

``--nopredict-endpoint``, ``--notrain-endpoint`` and ``--nodoc-endpoint`` (or
``predict_endpoint = false`` ... in a config file) replace the routes they cover with
one that answers ``404 {"code": 404, "message": "... is disabled on this server"}``,
and without an operation, so neither API document lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.config import Settings
from deepaas_lite.web.routes import Handler, Route

PREDICT = frozenset({"predict", "infer", "version_infer"})
TRAIN = frozenset({"train", "trainings", "training", "cancel", "log"})
DOCS = frozenset({"/swagger.json", "/openapi.json", "/ui", "/api"})


def _switch(route: Route) -> str | None:
    """The option that covers ``route``, if any."""
    if route.operation in PREDICT:
        return "predict-endpoint"
    if route.operation in TRAIN:
        return "train-endpoint"
    if route.path in DOCS:
        return "doc-endpoint"
    return None


def _disabled(option: str) -> Handler:
    what = option.removesuffix("-endpoint")

    async def handler(request: web.Request) -> web.StreamResponse:
        raise exceptions.EndpointDisabled(
            f"The {what} endpoint is disabled on this server (--no{option})"
        )

    return handler


def enabled_routes(routes: Iterable[Route], settings: Settings) -> list[Route]:
    """``routes`` with those of disabled endpoints answering 404, undocumented."""
    off = {
        "predict-endpoint": not settings.predict_endpoint,
        "train-endpoint": not settings.train_endpoint,
        "doc-endpoint": not settings.doc_endpoint,
    }
    out = []
    for route in routes:
        option = _switch(route)
        if option is not None and off[option]:
            disabled = (exceptions.EndpointDisabled,)
            route = replace(route, handler=_disabled(option), doc=None, raises=disabled)
        out.append(route)
    return out
