"""Every route, as data. The router and both API documents are built from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from deepaas_lite import exceptions, http_errors
from deepaas_lite.http_errors import Meaning
from deepaas_lite.openapi import inference as oip
from deepaas_lite.openapi import openapi3, swagger2
from deepaas_lite.openapi import prediction_jobs as jobs_doc
from deepaas_lite.openapi import store as store_doc
from deepaas_lite.openapi.operation import Operation
from deepaas_lite.web import (
    body,
    documents,
    health,
    inference,
    metrics,
    models,
    predict,
    prediction_jobs,
    store,
    train,
    ui,
    versions,
    webapp,
)
from deepaas_lite.web.keys import OPEN_INFERENCE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# DEEPaaS's endpoint switches (--nopredict-endpoint ...), by the option's name.
Switch = Literal["predict-endpoint", "train-endpoint", "doc-endpoint"]
PREDICT_SWITCH: Switch = "predict-endpoint"
TRAIN_SWITCH: Switch = "train-endpoint"
DOC_SWITCH: Switch = "doc-endpoint"


@dataclass(frozen=True)
class Route:
    """One method on one path (relative to the base path, without trailing slash).

    ``doc`` is how the API documents describe it; ``None`` leaves it out. Paths with
    ``{model_id}`` are documented once per model. ``raises`` are the core errors the
    handler answers with (declared next to it, as ``ERRORS``); the documents list
    their statuses, with the middlewares' refusals (``errors``). ``open_inference``:
    a route of the Open Inference Protocol, whose error answers also carry ``"error"``.
    ``protected``: it needs credentials when the server has an authenticator
    (``web/auth.py``). ``switch``: the endpoint option that can turn it off
    (``web/endpoints.py``).
    """

    method: str
    path: str
    handler: Handler
    doc: Operation | None = None
    raises: tuple[type[exceptions.DeepaasError], ...] = ()
    open_inference: bool = False
    protected: bool = False
    switch: Switch | None = None

    @property
    def operation(self) -> str | None:
        """The documented operation's name (``predict``, ...), if it is documented."""
        return None if self.doc is None else self.doc.name

    @property
    def errors(self) -> tuple[Meaning, ...]:
        """Every error the route can answer with: what its handler raises, a body over
        the size limit or too slow where one is read (POST), the Host and Origin guards
        (all but health), and a request line or headers too long (all). 401, with
        tokens, is added with the bearer scheme."""
        out = [http_errors.meaning_of(error) for error in self.raises]
        out += [http_errors.URI_TOO_LONG, http_errors.HEADERS_TOO_LARGE]
        if self.method == "POST":
            out += [http_errors.TOO_LARGE, http_errors.BODY_TIMEOUT]
        if not self.path.startswith(HEALTH):
            out.append(http_errors.FORBIDDEN)
        return tuple(out)


MODEL = "/v2/models/{model_id}"
HEALTH = "/v2/health/"
TRAINING = MODEL + "/train/{uuid}"
PREDICTION = MODEL + "/predictions/{uuid}"
VERSIONED = MODEL + "/versions/{version}"

VERSIONS = Operation("versions", "List the API versions", openapi3.versions)
VERSION = Operation("version", "Describe API version 2 and the server", oip.server)
MODELS = Operation("models", "List the models", openapi3.model_list)
MODEL_INFO = Operation("model", "Describe the model", oip.model_metadata)
PREDICT = Operation("predict", "Make a prediction", openapi3.predict, swagger2.predict)
TRAIN = Operation("train", "Start a training", openapi3.train, swagger2.train)
TRAININGS = Operation("trainings", "List trainings", openapi3.trainings)
GET_TRAINING = Operation("training", "Get a training", openapi3.training)
CANCEL = Operation("cancel", "Cancel or remove a training", openapi3.cancel)
LOG = Operation("log", "Read a training's log", openapi3.log)
JOBS = Operation("prediction_jobs", "List prediction jobs", jobs_doc.jobs)
GET_JOB = Operation("prediction_job", "Get a prediction job", jobs_doc.job)
JOB_OUTPUT = Operation("prediction_output", "Get a prediction job's output", jobs_doc.output)
DELETE_JOB = Operation(
    "delete_prediction_job", "Cancel or remove a prediction job", jobs_doc.delete
)
STORE = Operation("store", "List the model's versions", store_doc.store, store_doc.store_swagger2)
MAKE_CURRENT = Operation(
    "make_current",
    "Make an older version current again",
    store_doc.make_current,
    store_doc.make_current_swagger2,
)
LIVE = Operation("live", "Is the server up", openapi3.live)
READY = Operation("ready", "Is every model serving", openapi3.ready)
METRICS = Operation("metrics", "Prometheus metrics", openapi3.metrics)
MODEL_READY = oip.operation("model_ready", "Is the model ready", oip.model_ready)
INFER = oip.operation("infer", "Infer (Open Inference Protocol)", oip.infer)
VERSION_INFO = oip.operation(
    "version_metadata", "Describe a version", oip.versioned(oip.model_metadata)
)
VERSION_READY = oip.operation(
    "version_ready", "Is the version ready", oip.versioned(oip.model_ready)
)
VERSION_INFER = oip.operation("version_infer", "Infer with a version", oip.versioned(oip.infer))
_READY_ERRORS = (*inference.METADATA_ERRORS, exceptions.ModelNotReady)
_INFER_ERRORS = inference.INFER_ERRORS

_JOB_LIST_ERRORS = prediction_jobs.LIST_ERRORS
_JOB_ERRORS = prediction_jobs.RECORD_ERRORS
_OUTPUT_ERRORS = prediction_jobs.OUTPUT_ERRORS

ROUTES: list[Route] = [
    Route("GET", "", versions.list_versions, VERSIONS),
    Route("GET", "/v2", inference.get_v2, VERSION, open_inference=True),
    Route("GET", "/v2/models", models.list_models, MODELS),
    Route("GET", MODEL, inference.get_model, MODEL_INFO, models.ERRORS, open_inference=True),
    Route(
        "POST",
        MODEL + "/predict",
        predict.predict,
        PREDICT,
        predict.ERRORS,
        protected=True,
        switch=PREDICT_SWITCH,
    ),
    # Next to predict: the router tries a model's paths in this order.
    Route(
        "POST",
        MODEL + "/infer",
        inference.infer,
        INFER,
        _INFER_ERRORS,
        open_inference=True,
        protected=True,
        switch=PREDICT_SWITCH,
    ),
    Route(
        "POST",
        MODEL + "/train",
        train.start_training,
        TRAIN,
        train.START_ERRORS,
        protected=True,
        switch=TRAIN_SWITCH,
    ),
    Route(
        "GET",
        MODEL + "/train",
        train.list_trainings,
        TRAININGS,
        train.LIST_ERRORS,
        protected=True,
        switch=TRAIN_SWITCH,
    ),
    Route(
        "GET",
        TRAINING,
        train.get_training,
        GET_TRAINING,
        train.RECORD_ERRORS,
        protected=True,
        switch=TRAIN_SWITCH,
    ),
    Route(
        "DELETE",
        TRAINING,
        train.cancel_training,
        CANCEL,
        train.DELETE_ERRORS,
        protected=True,
        switch=TRAIN_SWITCH,
    ),
    Route(
        "GET",
        TRAINING + "/log",
        train.training_log,
        LOG,
        train.RECORD_ERRORS,
        protected=True,
        switch=TRAIN_SWITCH,
    ),
    *(
        Route(method, path, handler, doc, errors, protected=True, switch=PREDICT_SWITCH)
        for method, path, handler, doc, errors in (
            ("GET", MODEL + "/predictions", prediction_jobs.list_jobs, JOBS, _JOB_LIST_ERRORS),
            ("GET", PREDICTION, prediction_jobs.get_job, GET_JOB, _JOB_ERRORS),
            ("GET", PREDICTION + "/output", prediction_jobs.job_output, JOB_OUTPUT, _OUTPUT_ERRORS),
            ("DELETE", PREDICTION, prediction_jobs.delete_job, DELETE_JOB, _JOB_ERRORS),
        )
    ),
    Route("GET", MODEL + "/store", store.get_store, STORE, store.STORE_ERRORS, protected=True),
    Route(
        "PUT",
        MODEL + "/store/current",
        store.make_current,
        MAKE_CURRENT,
        store.CURRENT_ERRORS,
        protected=True,
    ),
    Route("GET", HEALTH + "live", health.live, LIVE, open_inference=True),
    Route("GET", HEALTH + "ready", health.ready, READY, health.ERRORS, open_inference=True),
    Route("GET", MODEL + "/ready", inference.model_ready, MODEL_READY, _READY_ERRORS, True),
    Route("GET", VERSIONED, inference.get_model, VERSION_INFO, inference.METADATA_ERRORS, True),
    Route("GET", VERSIONED + "/ready", inference.model_ready, VERSION_READY, _READY_ERRORS, True),
    Route(
        "POST",
        VERSIONED + "/infer",
        inference.infer,
        VERSION_INFER,
        inference.INFER_ERRORS,
        open_inference=True,
        protected=True,
        switch=PREDICT_SWITCH,
    ),
    Route("GET", "/metrics", metrics.metrics, METRICS),
    Route("GET", "/swagger.json", documents.swagger, switch=DOC_SWITCH),
    Route("GET", "/openapi.json", documents.openapi, switch=DOC_SWITCH),
    Route("GET", "/ui", ui.page, switch=DOC_SWITCH),
    Route("GET", "/api", ui.redirect, switch=DOC_SWITCH),
    Route("GET", "/app", webapp.page),
    Route("GET", "/app/static/{name}", webapp.asset),
]


def add_routes(app: web.Application, base_path: str, routes: list[Route]) -> None:
    """Register each route with and without a trailing slash (no redirects).

    A GET route answers HEAD too: the same status and headers, no body. A POST route
    asks for its body (``Expect: 100-continue``) only when it will read it.
    """
    open_inference = set()
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
            if route.open_inference:
                open_inference.add(path)
    app[OPEN_INFERENCE] = frozenset(open_inference)
