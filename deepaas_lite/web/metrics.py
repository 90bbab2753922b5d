"""``GET /metrics``: Prometheus text format, one registry per application."""

from __future__ import annotations

import bisect
import itertools
from collections import Counter as Tally
from collections.abc import Callable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training.manager import JobManager
from deepaas_lite.training.records import Status
from deepaas_lite.web.keys import MODELS, PREDICTION_JOBS, TRAININGS
from deepaas_lite.web.observed import Observer

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
)


class Metrics:
    """The application's metrics and their registry.

    Requests are tallied in plain dicts, read by a collector when ``/metrics`` is
    scraped: the event loop is the only writer, so the per-request work needs none of
    the locks that ``prometheus_client``'s own counters take (measured: 7% of a no-op
    model's throughput). ``prometheus_client`` still builds and formats the families.
    """

    def __init__(self, app: web.Application) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._counts: dict[tuple[str, str, str, str], int] = {}
        self._latency: dict[tuple[str, str, str], _Latency] = {}
        self.registry.register(_RequestCollector(self))
        self.registry.register(
            _JobCollector(app, "deepaas_trainings", "Training records", _trainings)
        )
        self.registry.register(
            _JobCollector(app, "deepaas_prediction_jobs", "Prediction jobs", _prediction_jobs)
        )
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, memory, fds

    def observe(self, method: str, route: str, model: str, status: int, seconds: float) -> None:
        """One answered request; ``model`` is the served model's id, or ``""``."""
        key = (method, model, route, str(status))
        self._counts[key] = self._counts.get(key, 0) + 1
        latency = self._latency.get((method, model, route))
        if latency is None:
            latency = self._latency[method, model, route] = _Latency()
        latency.add(seconds)


class _Latency:
    """A histogram's buckets (not yet cumulative) and sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total = 0.0

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        bounds = [*(floatToGoString(b) for b in LATENCY_BUCKETS), "+Inf"]  # type: ignore[no-untyped-call]
        return list(zip(bounds, itertools.accumulate(self.counts), strict=True))


class _RequestCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "deepaas_requests",
            "HTTP requests answered",
            labels=["method", "model", "route", "status"],
        )
        for request_labels, count in sorted(self._metrics._counts.items()):
            requests.add_metric(list(request_labels), count)
        yield requests
        latency = HistogramMetricFamily(
            "deepaas_request_duration_seconds",
            "Time to answer an HTTP request",
            labels=["method", "model", "route"],
        )
        for latency_labels, histogram in sorted(self._metrics._latency.items()):
            latency.add_metric(list(latency_labels), histogram.cumulative(), histogram.total)
        yield latency


METRICS = web.AppKey("metrics", Metrics)


def _trainings(app: web.Application) -> tuple[JobManager | None, Callable[[ModelWrapper], bool]]:
    return app.get(TRAININGS), lambda model: model.can_train


def _prediction_jobs(
    app: web.Application,
) -> tuple[JobManager | None, Callable[[ModelWrapper], bool]]:
    return app.get(PREDICTION_JOBS), lambda model: model.can_predict


class _JobCollector(Collector):
    """A kind of job's records by model and status (``jobs``: its manager, and which
    models run it)."""

    def __init__(
        self,
        app: web.Application,
        name: str,
        what: str,
        jobs: Callable[[web.Application], tuple[JobManager | None, Callable[[ModelWrapper], bool]]],
    ) -> None:
        self._app = app
        self._name = name
        self._what = what
        self._jobs = jobs

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            self._name, f"{self._what} by model and status", labels=["model", "status"]
        )
        manager, runs = self._jobs(self._app)
        if manager is not None:
            # Every status of every model that runs them, 0 included: a series that
            # vanishes reads as "no data" (and an alert on it never resolves).
            for model_id, model in self._app[MODELS].items():
                if not runs(model):
                    continue
                tally = Tally(manager.status_counts(model_id))
                for status in sorted(Status):
                    family.add_metric([model_id, status], tally[status])
        yield family


def _model_label(request: web.Request) -> str:
    """The model's id when it is a served one (unknown ids would grow the labels)."""
    model_id = request.match_info.get("model_id")
    return model_id if model_id is not None and model_id in request.app[MODELS] else ""


def _route_name(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else "unmatched"


def _observe(request: web.Request, status: int, seconds: float) -> None:
    request.app[METRICS].observe(
        request.method, _route_name(request), _model_label(request), status, seconds
    )


REQUEST_METRICS = Observer(_observe, gone_status=499)  # nginx's: the client went away


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
