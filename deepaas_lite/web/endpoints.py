"""DEEPaaS's endpoint switches: a disabled endpoint answers 404 and leaves the documents.

``--nopredict-endpoint``, ``--notrain-endpoint`` and ``--nodoc-endpoint`` (or
``predict_endpoint = false`` ... in a config file) replace the routes they cover with
one that answers ``404 {"code": 404, "message": "... is disabled on this server"}``,
and without an operation, so neither API document lists them. A route names the switch
that covers it (``Route.switch``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from aiohttp import web

from deepaas_lite import exceptions
from deepaas_lite.config import Settings
from deepaas_lite.web.routes import (
    DOC_SWITCH,
    PREDICT_SWITCH,
    TRAIN_SWITCH,
    Handler,
    Route,
    Switch,
)


def _disabled(option: Switch) -> Handler:
    what = option.removesuffix("-endpoint")

    async def handler(request: web.Request) -> web.StreamResponse:
        raise exceptions.EndpointDisabled(
            f"The {what} endpoint is disabled on this server (--no{option})"
        )

    return handler


def enabled_routes(routes: Iterable[Route], settings: Settings) -> list[Route]:
    """``routes`` with those of disabled endpoints answering 404, undocumented."""
    off: dict[Switch, bool] = {
        PREDICT_SWITCH: not settings.predict_endpoint,
        TRAIN_SWITCH: not settings.train_endpoint,
        DOC_SWITCH: not settings.doc_endpoint,
    }
    out = []
    for route in routes:
        if route.switch is not None and off[route.switch]:
            disabled = (exceptions.EndpointDisabled,)
            route = replace(route, handler=_disabled(route.switch), doc=None, raises=disabled)
        out.append(route)
    return out
