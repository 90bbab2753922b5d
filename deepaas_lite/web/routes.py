"""Every route, as data. The router and the OpenAPI document are both built from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from deepaas_lite.openapi import ui
from deepaas_lite.web import body, health, metrics, models, predict, spec, train, versions

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One method on one path (relative to the base path, without trailing slash).

    ``operation`` names how the OpenAPI document describes it; ``None`` leaves it
    out. Paths with ``{model_id}`` are documented once per model.
    """

    method: str
    path: str
    handler: Handler
    operation: str | None = None
    summary: str = ""


MODEL = "/v2/models/{model_id}"
TRAINING = MODEL + "/train/{uuid}"

ROUTES: list[Route] = [
    Route("GET", "", versions.list_versions, "versions", "List the API versions"),
    Route("GET", "/v2", versions.get_v2, "version", "Describe API version 2"),
    Route("GET", "/v2/models", models.list_models, "models", "List the models"),
    Route("GET", MODEL, models.get_model, "model", "Describe the model"),
    Route("POST", MODEL + "/predict", predict.predict, "predict", "Make a prediction"),
    Route("POST", MODEL + "/train", train.start_training, "train", "Start a training"),
    Route("GET", MODEL + "/train", train.list_trainings, "trainings", "List trainings"),
    Route("GET", TRAINING, train.get_training, "training", "Get a training"),
    Route("DELETE", TRAINING, train.cancel_training, "cancel", "Cancel or remove a training"),
    Route("GET", TRAINING + "/log", train.training_log, "log", "Read a training's log"),
    Route("GET", "/v2/health/live", health.live, "live", "Is the server up"),
    Route("GET", "/v2/health/ready", health.ready, "ready", "Is every model serving"),
    Route("GET", "/metrics", metrics.metrics, "metrics", "Prometheus metrics"),
    Route("GET", "/swagger.json", spec.swagger),
    Route("GET", "/openapi.json", spec.document),
    Route("GET", "/ui", ui.page),
    Route("GET", "/api", ui.redirect),
]


def add_routes(app: web.Application, base_path: str, routes: list[Route]) -> None:
    """Register each route with and without a trailing slash (no redirects).

    A GET route answers HEAD too: the same status and headers, no body. A POST route
    asks for its body (``Expect: 100-continue``) only when it will read it.
    """
    for route in routes:
        full = base_path + route.path
        paths = [full or "/"]
        if full and not full.endswith("/"):
            paths.append(full + "/")
        for path in paths:
            expect = body.expect_continue if route.method == "POST" else None
            app.router.add_route(route.method, path, route.handler, expect_handler=expect)
            if route.method == "GET":
                app.router.add_route("HEAD", path, route.handler)
