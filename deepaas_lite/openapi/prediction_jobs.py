"""How both API documents describe prediction jobs: predict's ``Prefer: respond-async``
and its ``202``, and the routes under ``/v2/models/{id}/predictions/``
(``web/prediction_jobs.py``).

The Swagger 2.0 document gains the ``202`` only: DEEPaaS clients (the AI4OS UI) make an
input of every predict parameter, and a ``Prefer`` input there would turn their calls
into jobs.
"""

from __future__ import annotations

from typing import Any

from deepaas_lite.model.wrapper import ModelWrapper

JSON = "application/json"
CALLBACK = "Callback-URL"

RECORD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "uuid": {"type": "string"},
        "date": {"type": "string", "description": "When it was submitted"},
        "status": {
            "type": "string",
            "enum": ["pending", "running", "done", "error", "cancelled", "interrupted"],
        },
        "args": {"type": "object", "description": "The arguments (a file: its name and type)"},
        "request_id": {"type": "string", "description": "The request that submitted it"},
        "callback": {"type": "string", "description": "Where the record goes when it ends"},
        "call": {
            "type": "string",
            "enum": ["inference"],
            "description": "inference: submitted to /infer; its output is the V2 answer",
        },
        "message": {"type": "string", "description": "Why it ended in error"},
        "result": {
            "type": "object",
            "properties": {
                "content_type": {"type": "string", "description": "The output's media type"},
                "size": {"type": "integer", "description": "The output's size in bytes"},
                "output": {"description": "The output itself, when it is JSON"},
                "finish_date": {"type": "string"},
                "duration": {"type": "string"},
            },
        },
    },
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again (while it has not ended)",
        "schema": {"type": "integer", "minimum": 0},
    }
}
ACCEPTED: dict[str, Any] = {
    "description": "Submitted as a job (Prefer: respond-async): its record; Location is "
    "its URL, to poll until it ends",
    "headers": {
        "Location": {"description": "The job's record", "schema": {"type": "string"}},
        "Preference-Applied": {"schema": {"type": "string", "enum": ["respond-async"]}},
        **_RETRY_AFTER,
    },
    "content": {JSON: {"schema": RECORD}},
}
HEADERS: list[dict[str, Any]] = [
    {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "description": "respond-async: run the prediction as a job and answer 202 at once "
        "(for predictions that outlast a proxy's timeout). Other preferences are ignored, "
        "as RFC 7240 says.",
        # No example: Swagger UI would fill it in and send it on every Execute.
        "schema": {"type": "string"},
    },
    {
        "name": CALLBACK,
        "in": "header",
        "required": False,
        "description": "With Prefer: respond-async, where the job's record is POSTed, "
        "signed, when it ends (a host of --webhook-allowed-host)",
        "schema": {"type": "string", "format": "uri"},
    },
]


def with_jobs(operation: dict[str, Any]) -> dict[str, Any]:
    """Predict's OpenAPI 3 operation with the job headers and the 202."""
    operation.setdefault("parameters", []).extend(HEADERS)
    operation["responses"]["202"] = ACCEPTED
    return operation


def with_jobs_swagger2(operation: dict[str, Any]) -> dict[str, Any]:
    """Predict's Swagger 2.0 operation with the 202 (and no new parameter)."""
    operation["responses"]["202"] = {
        "description": ACCEPTED["description"],
        "schema": RECORD,
        "headers": {"Location": {"type": "string"}, "Retry-After": {"type": "integer"}},
    }
    return operation


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {
        "responses": {
            "200": {"description": description, "content": {JSON: {"schema": schema}}, **extra}
        }
    }


def jobs(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_predict:
        return None
    return _json({"type": "array", "items": RECORD}, "The model's prediction jobs, oldest first")


def job(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_predict:
        return None
    return _json(RECORD, "The job's record", headers=_RETRY_AFTER)


def output(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_predict:
        return None
    media: dict[str, Any] = {choice: {"schema": {}} for choice in model.accept_choices or [JSON]}
    return {
        "responses": {
            "200": {"description": "The job's output, as the model produced it", "content": media}
        }
    }


def delete(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_predict:
        return None
    return _json(RECORD, "Cancelled, or removed with its output when it had ended")


def without_webhooks(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3 ``document`` of a server whose webhooks are off: no ``Callback-URL``
    (a client that sent one would get 422)."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if p.get("name") != CALLBACK
                ]
    return document
