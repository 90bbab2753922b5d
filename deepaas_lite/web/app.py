"""``create_app``: the models, the routes, the spec and their lifetimes in one app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from deepaas_lite.config import Settings
from deepaas_lite.engine import executors, heap
from deepaas_lite.engine.batching import policy_for
from deepaas_lite.engine.elastic import ElasticThreads
from deepaas_lite.engine.limits import thread_budget
from deepaas_lite.engine.protocol import Predictor
from deepaas_lite.engine.versions import Switcher
from deepaas_lite.model import store as model_store
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.openapi.openapi3 import ServingInfo, build_openapi3
from deepaas_lite.openapi.prediction_jobs import without_webhooks
from deepaas_lite.openapi.security import with_bearer_auth
from deepaas_lite.openapi.swagger2 import build_swagger2
from deepaas_lite.predictions.manager import PredictionJobManager
from deepaas_lite.training.manager import TrainingManager
from deepaas_lite.web import auth, inference, protections, reloads, ui, webhooks
from deepaas_lite.web.access_log import ACCESS_LOG
from deepaas_lite.web.auth import Authenticator, auth_middleware
from deepaas_lite.web.endpoints import enabled_routes
from deepaas_lite.web.errors import error_middleware
from deepaas_lite.web.keys import (
    MODELS,
    PREDICTION_JOBS,
    PREDICTORS,
    SETTINGS,
    SPEC,
    SWAGGER,
    TRAININGS,
)
from deepaas_lite.web.metrics import METRICS, REQUEST_METRICS, Metrics
from deepaas_lite.web.observed import observing
from deepaas_lite.web.origins import cors_middleware, guard
from deepaas_lite.web.routes import ROUTES as ALL_ROUTES
from deepaas_lite.web.routes import add_routes

LOG = logging.getLogger(__name__)


def create_app(models: Mapping[str, ModelWrapper], settings: Settings) -> web.Application:
    """An application serving ``models``; nothing runs until it starts.

    ``AuthSetupError`` when the authenticator the options name cannot start.
    """
    authenticator = auth.from_settings(settings)
    app = web.Application(
        client_max_size=settings.client_max_size,
        middlewares=_middlewares(settings, authenticator),
    )
    app[SETTINGS] = settings
    served = dict(models)
    app[MODELS] = served
    store_root = model_store.export(settings.model_store)
    for model_id, model in served.items():
        model.attach(model_store.ModelStore(store_root, model_id))
    app[METRICS] = Metrics(app)
    routes = enabled_routes(ALL_ROUTES, settings)
    spec = build_openapi3(
        routes, served, settings.base_path, serving=_serving_info(served, settings)
    )
    swagger = build_swagger2(routes, served, spec, settings.base_path)
    if authenticator is not None:
        protected = auth.protected_routes(routes, settings.metrics_auth)
        auth.protect(app, authenticator, settings.base_path, protected)
        operations = {route.operation for route in protected if route.operation}
        spec = with_bearer_auth(spec, operations, authenticator.credentials)
        swagger = with_bearer_auth(swagger, operations, authenticator.credentials)
    notifier = webhooks.from_settings(settings.webhook_allowed_hosts, settings.webhook_secret_file)
    if notifier is None:
        spec = without_webhooks(spec)
    app[SPEC] = json.dumps(spec).encode()
    app[SWAGGER] = json.dumps(swagger).encode()
    app[TRAININGS] = TrainingManager(
        served,
        settings.state_dir,
        workers=settings.train_workers,
        history=settings.train_history,
        queue_max=settings.train_queue_max,
        timeouts=settings.train_timeouts(served),
        log_max_bytes=settings.train_log_max_bytes,
        executor=executors.get(settings.train_executor).jobs(settings),
    )
    app[PREDICTORS] = {}
    app[PREDICTION_JOBS] = PredictionJobManager(
        served,
        settings.state_dir,
        lambda model_id: app[PREDICTORS][model_id],
        workers=settings.predict_jobs_workers,
        history=settings.prediction_history,
        queue_max=settings.predict_jobs_max,
        output_max_bytes=settings.prediction_output_max_bytes,
        notifier=notifier,
    )
    app[inference.SIGNATURES] = inference.signatures(served)
    add_routes(app, settings.base_path, routes)
    if settings.doc_endpoint:
        ui.add_static(app, settings.base_path)
    app.cleanup_ctx.append(_predictors)
    app.cleanup_ctx.append(_trainings)
    app.cleanup_ctx.append(_prediction_jobs)
    app.cleanup_ctx.append(reloads.reload_on_sighup)
    protections.protect(app)
    return app


def _middlewares(settings: Settings, authenticator: Authenticator | None) -> list[Middleware]:
    """Outermost first; one with nothing to do under ``settings`` is left out.

    The request id is set before anything logs, and the access log and metrics see the
    final status (one frame, ``observed.py``); CORS headers go on error answers too;
    the guards (Host, Origin, token) raise into the error middleware, which makes every
    error JSON.
    """
    return [
        observing([ACCESS_LOG, REQUEST_METRICS]),
        *([cors_middleware] if settings.cors_origins else []),
        error_middleware,
        guard(settings),
        *([auth_middleware] if authenticator is not None else []),
    ]


def _serving_info(models: Mapping[str, ModelWrapper], settings: Settings) -> dict[str, ServingInfo]:
    """Each model's batching and worker settings, for its predict operation's description."""
    out = {}
    for model_id, model in models.items():
        options = settings.options_for(model_id)
        batch = policy_for(model, options.max_batch_size, options.max_batch_delay)
        out[model_id] = ServingInfo(
            predict_workers=options.predict_workers or 0,
            max_batch_size=None if batch is None else batch.max_size,
            max_batch_delay=None if batch is None else batch.max_delay,
        )
    return out


async def _predictors(app: web.Application) -> AsyncIterator[None]:
    """Start every model's predictor; warming runs in the background.

    A predictor that fails to start is logged and reported by readiness; the others
    serve. Closing always closes every predictor, then the threads.
    """
    predictors: dict[str, Predictor] = app[PREDICTORS]
    settings = app[SETTINGS]
    options = {model_id: settings.options_for(model_id) for model_id in app[MODELS]}
    threads = ElasticThreads(max_threads=thread_budget(options.values()))
    executor = executors.get(settings.predict_executor)
    for model_id, model in app[MODELS].items():
        predictors[model_id] = executor.predictor(model, options[model_id], threads)
    switcher = Switcher(predictors)
    app[TRAININGS].versions.listen(switcher.switch)
    warming = asyncio.create_task(
        _start_all(predictors, settings.warm, switcher), name="warm models"
    )
    yield
    try:
        warming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await warming
        await switcher.close()
        closed = await asyncio.gather(
            *(predictor.close() for predictor in predictors.values()), return_exceptions=True
        )
        _log_failures("close", predictors, closed)
    finally:
        threads.shutdown()


async def _start_all(predictors: Mapping[str, Predictor], warm: bool, switcher: Switcher) -> None:
    started = await asyncio.gather(
        *(predictor.start(warm) for predictor in predictors.values()), return_exceptions=True
    )
    _log_failures("start", predictors, started)
    # Every copy serves the current version (or loads it, if it changed meanwhile).
    for model_id, predictor in predictors.items():
        if predictor.ready and predictor.model.store is not None:
            switcher.switch(model_id, predictor.model.store.current())
    heap.settle("models started")


def _log_failures(
    what: str, predictors: Mapping[str, Predictor], outcomes: list[BaseException | None]
) -> None:
    for model_id, outcome in zip(predictors, outcomes, strict=True):
        if isinstance(outcome, Exception):
            LOG.error("Model '%s': its predictor failed to %s: %r", model_id, what, outcome)


async def _trainings(app: web.Application) -> AsyncIterator[None]:
    manager = app[TRAININGS]
    await manager.start()
    yield
    await manager.close()


async def _prediction_jobs(app: web.Application) -> AsyncIterator[None]:
    """After the predictors (the jobs run on them), before them at the stop."""
    manager = app[PREDICTION_JOBS]
    await manager.start()
    yield
    await manager.close()
    notifier = manager.notifier
    if isinstance(notifier, webhooks.Webhooks):
        await notifier.close()
