"""The error table: every entry is answered by a route, every core error has one."""

from __future__ import annotations

import inspect
from pathlib import Path

from deepaas_lite import exceptions
from deepaas_lite.config import Settings
from deepaas_lite.http_errors import ERRORS, FAILED, RETRY_AFTER, Meaning, by_status, meaning_of
from deepaas_lite.web.endpoints import enabled_routes
from deepaas_lite.web.routes import ROUTES

# They stop the start or leave a plugin out; no request ever meets them (an executor
# unavailable later ends a job in error: its record says why).
AT_START_ONLY = {
    exceptions.ModelLoadError,
    exceptions.UnknownModelNames,
    exceptions.StateUnusable,
    exceptions.ExecutorUnavailable,
}
# DELETE of an ended training removes it: TrainingFinished never reaches the client.
NOT_ANSWERED = {exceptions.TrainingFinished, exceptions.PredictionJobFinished}


def test_every_entry_is_declared_by_a_route() -> None:
    off = Settings(
        state_dir=Path("unused"), predict_endpoint=False, train_endpoint=False, doc_endpoint=False
    )
    routes = [*ROUTES, *enabled_routes(ROUTES, off)]
    declared = {error for route in routes for error in route.raises}
    assert declared == set(ERRORS) - NOT_ANSWERED


def test_every_core_error_is_in_the_table_or_met_only_at_start() -> None:
    core = {
        cls
        for _, cls in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(cls, exceptions.DeepaasError) and cls is not exceptions.DeepaasError
    }
    assert core == set(ERRORS) | AT_START_ONLY


def test_a_subclass_takes_its_parents_meaning() -> None:
    class Unforeseen(exceptions.ModelNotFound):
        pass

    assert meaning_of(Unforeseen) == ERRORS[exceptions.ModelNotFound]
    assert meaning_of(ValueError) == FAILED
    assert meaning_of(exceptions.InvalidArguments).status == 422


def test_meanings_of_one_status_are_joined() -> None:
    joined = by_status(
        [
            Meaning(503, "Not ready"),
            Meaning(404, "Unknown model", "Model 'x' not found"),
            Meaning(503, "Busy now", headers=(RETRY_AFTER,)),
            Meaning(503, "Not ready"),
        ]
    )
    assert list(joined) == [404, 503]
    assert joined[404] == Meaning(404, "Unknown model", "Model 'x' not found")
    assert joined[503] == Meaning(
        503, "Not ready, or busy now", "Not ready", headers=(RETRY_AFTER,)
    )
