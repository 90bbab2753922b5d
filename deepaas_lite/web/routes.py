"""Every route, as data. The router and both API documents are built from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from deepaas_lite import exceptions, http_errors
from deepaas_lite.http_errors import Meaning
from deepaas_lite.openapi import openapi3, swagger2
from deepaas_lite.openapi.operation import Operation
from deepaas_lite.web import body, documents, health, metrics, models, predict, train, ui, versions

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One method on one path (relative to the base path, without trailing slash).

    ``doc`` is how the API documents describe it; ``None`` leaves it out. Paths with
    ``{model_id}`` are documented once per model. ``raises`` are the core errors the
    handler answers with (declared next to it, as ``ERRORS``); the documents list
    their statuses, with the middlewares' refusals (``errors``).
    """

    method: str
    path: str
    handler: Handler
    doc: Operation | None = None
    raises: tuple[type[exceptions.DeepaasError], ...] = ()

    @property
    def operation(self) -> str | None:
        """The documented operation's name (``predict``, ...), if it is documented."""
        return None if self.doc is None else self.doc.name

    @property
    def errors(self) -> tuple[Meaning, ...]:
        """Every error the route can answer with: what its handler raises, a body over
        the size limit where one is read (POST), and the Host and Origin guards (all
        but health). 401, with tokens, is added with the bearer scheme."""
        out = [http_errors.meaning_of(error) for error in self.raises]
        if self.method == "POST":
            out.append(http_errors.TOO_LARGE)
        if not self.path.startswith(HEALTH):
            out.append(http_errors.FORBIDDEN)
        return tuple(out)


MODEL = "/v2/models/{model_id}"
HEALTH = "/v2/health/"
TRAINING = MODEL + "/train/{uuid}"

VERSIONS = Operation("versions", "List the API versions", openapi3.versions)
VERSION = Operation("version", "Describe API version 2", openapi3.version)
MODELS = Operation("models", "List the models", openapi3.model_list)
MODEL_INFO = Operation("model", "Describe the model", openapi3.model_info)
PREDICT = Operation("predict", "Make a prediction", openapi3.predict, swagger2.predict)
TRAIN = Operation("train", "Start a training", openapi3.train, swagger2.train)
TRAININGS = Operation("trainings", "List trainings", openapi3.trainings)
GET_TRAINING = Operation("training", "Get a training", openapi3.training)
CANCEL = Operation("cancel", "Cancel or remove a training", openapi3.cancel)
LOG = Operation("log", "Read a training's log", openapi3.log)
LIVE = Operation("live", "Is the server up", openapi3.live)
READY = Operation("ready", "Is every model serving", openapi3.ready)
METRICS = Operation("metrics", "Prometheus metrics", openapi3.metrics)

ROUTES: list[Route] = [
    Route("GET", "", versions.list_versions, VERSIONS),
    Route("GET", "/v2", versions.get_v2, VERSION),
    Route("GET", "/v2/models", models.list_models, MODELS),
    Route("GET", MODEL, models.get_model, MODEL_INFO, models.ERRORS),
    Route("POST", MODEL + "/predict", predict.predict, PREDICT, predict.ERRORS),
    Route("POST", MODEL + "/train", train.start_training, TRAIN, train.START_ERRORS),
    Route("GET", MODEL + "/train", train.list_trainings, TRAININGS, train.LIST_ERRORS),
    Route("GET", TRAINING, train.get_training, GET_TRAINING, train.RECORD_ERRORS),
    Route("DELETE", TRAINING, train.cancel_training, CANCEL, train.RECORD_ERRORS),
    Route("GET", TRAINING + "/log", train.training_log, LOG, train.RECORD_ERRORS),
    Route("GET", HEALTH + "live", health.live, LIVE),
    Route("GET", HEALTH + "ready", health.ready, READY, health.ERRORS),
    Route("GET", "/metrics", metrics.metrics, METRICS),
    Route("GET", "/swagger.json", documents.swagger),
    Route("GET", "/openapi.json", documents.openapi),
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
