"""What each error means over HTTP: the one table.

``ERRORS`` gives each of the core's errors its status and what it means. The web layer
answers with it (``web/errors.py``: the error middleware; ``web/health.py``: the
readiness 503), and both API documents (``openapi/``) describe an operation's errors
from it: a route declares the errors its handler can raise, and the documents list
their statuses. ``UNAUTHORIZED``, ``FORBIDDEN`` and ``TOO_LARGE`` are the refusals of
the web layer itself, answered from aiohttp's HTTP exceptions, which carry their status.

No aiohttp here: the document builders (and ``deepaas-cli schema``) import it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from deepaas_lite import exceptions

RETRY_AFTER = "Retry-After"
WWW_AUTHENTICATE = "WWW-Authenticate"


@dataclass(frozen=True)
class Meaning:
    """An error's status, how its answer is logged and the headers it carries.

    ``example`` is a message the documents show (default: the description);
    ``log``: the level the answer is logged at: ERROR when the server or the plugin
    failed, WARNING for a state the client sees (a model not ready yet, a time limit),
    ``None`` for the client's own mistakes and for limits it is told to retry after;
    ``headers``: what the answer carries besides the JSON body, e.g. ``Retry-After`` (a
    limit reached, not a failure), taken from the error (``DeepaasError.retry_after``).
    """

    status: int
    description: str
    example: str = ""
    log: int | None = None
    headers: tuple[str, ...] = ()

    @property
    def retry_after(self) -> bool:
        return RETRY_AFTER in self.headers


ERRORS: dict[type[exceptions.DeepaasError], Meaning] = {
    exceptions.ModelNotFound: Meaning(404, "Unknown model", "Model 'x' not found"),
    exceptions.TrainingNotFound: Meaning(404, "Unknown training"),
    exceptions.EndpointDisabled: Meaning(404, "The endpoint is disabled on this server"),
    exceptions.MalformedBody: Meaning(
        400, "Malformed body", "Malformed JSON body: Expecting value: line 1 column 1 (char 0)"
    ),
    exceptions.InvalidArguments: Meaning(422, "Invalid arguments", "Invalid arguments: data"),
    exceptions.InvalidInputs: Meaning(
        400, "The inference request does not fit the model's inputs", "Input 'data': ..."
    ),
    exceptions.NotAcceptable: Meaning(406, "The model cannot answer with an accepted media type"),
    exceptions.UnsupportedMediaType: Meaning(
        415, "A body of a type that no argument location reads"
    ),
    # Not answered today: DELETE removes a training that has ended instead.
    exceptions.TrainingFinished: Meaning(409, "The training has already ended"),
    exceptions.VersionNotFound: Meaning(
        404, "Unknown version of the model", "Model 'x' has no version 'y'"
    ),
    exceptions.VersionInUse: Meaning(
        409,
        "The training's model version is current (make another version current first)",
    ),
    exceptions.TrainingQueueFull: Meaning(
        429,
        "The training queue is full (try again after Retry-After seconds)",
        headers=(RETRY_AFTER,),
    ),
    exceptions.PredictionJobQueueFull: Meaning(
        429,
        "The prediction job queue is full (try again after Retry-After seconds)",
        headers=(RETRY_AFTER,),
    ),
    exceptions.PredictionJobNotFound: Meaning(404, "Unknown prediction job"),
    # Not answered: DELETE removes a prediction job that has ended instead.
    exceptions.PredictionJobFinished: Meaning(409, "The prediction job has already ended"),
    exceptions.NoOutput: Meaning(
        404, "The prediction job has no output (it has not ended, or ended without one)"
    ),
    exceptions.StorageFailed: Meaning(
        507, "The server could not store the training", log=logging.ERROR
    ),
    exceptions.NotImplementedByModel: Meaning(501, "The model does not implement this"),
    exceptions.ModelNotReady: Meaning(
        503, "Not ready (warming, failed to warm, or the model says so)", log=logging.WARNING
    ),
    exceptions.ModelBusy: Meaning(
        503,
        "The model's queue is full (try again after Retry-After seconds)",
        headers=(RETRY_AFTER,),
    ),
    exceptions.PredictTimeout: Meaning(
        504,
        "The prediction took longer than the server's --predict-timeout",
        log=logging.WARNING,
    ),
    exceptions.InvalidResponse: Meaning(
        500, "The model's output is not what it declares", log=logging.ERROR
    ),
    exceptions.PluginFailed: Meaning(
        500, "The model failed", "The model failed: division by zero", log=logging.ERROR
    ),
}

FAILED = ERRORS[exceptions.PluginFailed]
"""Any other exception: the plugin (or the server) failed."""

UNAUTHORIZED = Meaning(
    401,
    "A valid bearer token is required",
    "A valid bearer token is required (Authorization: Bearer <token>)",
    headers=(WWW_AUTHENTICATE,),
)
FORBIDDEN = Meaning(
    403,
    "The Host is not served here (--allowed-host), or a cross-origin request was refused "
    "(--cors-origin)",
)
TOO_LARGE = Meaning(413, "Body too large")
# Refusals of the HTTP layer itself (web/connection.py), before any route runs.
BODY_TIMEOUT = Meaning(408, "The body stopped coming (--body-timeout)")
URI_TOO_LONG = Meaning(
    414, "The request line is too long (over 8,192 bytes): send long arguments in a body"
)
HEADERS_TOO_LARGE = Meaning(
    431, "A header is too long (over 8,190 bytes), or there are more than 128 headers"
)
NOT_ALLOWED = Meaning(405, "Method not allowed", headers=("Allow",))


def meaning_of(error: type[BaseException]) -> Meaning:
    """The meaning of an error class: that of its nearest class in the table, else 500."""
    for cls in error.__mro__:
        if cls in ERRORS:
            return ERRORS[cls]
    return FAILED


def by_status(meanings: Iterable[Meaning]) -> dict[int, Meaning]:
    """One meaning per status, in status order, for a document's responses.

    Meanings that share a status are joined: their descriptions ("..., or ..."),
    the first one's example, and the headers of any of them.
    """
    grouped: dict[int, list[Meaning]] = {}
    for meaning in meanings:
        same = grouped.setdefault(meaning.status, [])
        if meaning not in same:
            same.append(meaning)
    out = {}
    for status in sorted(grouped):
        first, *others = grouped[status]
        description = ", or ".join(
            [first.description, *(m.description[:1].lower() + m.description[1:] for m in others)]
        )
        headers = dict.fromkeys(header for m in grouped[status] for header in m.headers)
        out[status] = Meaning(
            status, description, first.example or first.description, headers=tuple(headers)
        )
    return out
