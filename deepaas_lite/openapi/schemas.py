"""JSON schemas of deepaas-lite's own answers (errors, trainings, models)."""

from __future__ import annotations

from typing import Any

from deepaas_lite.training.records import Status

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "integer", "description": "The HTTP status code"},
        "message": {"type": "string", "description": "What went wrong"},
        "error": {
            "type": "string",
            "description": "The message again, on the Open Inference Protocol's routes",
        },
        "errors": {
            "type": "object",
            "description": "For 422: each invalid argument and its messages",
            "additionalProperties": {},
        },
    },
}

TRAINING: dict[str, Any] = {
    "type": "object",
    "required": ["uuid", "date", "status", "args"],
    "properties": {
        "uuid": {"type": "string", "description": "The training's id"},
        "date": {"type": "string", "description": "When it was submitted"},
        "status": {
            "type": "string",
            "enum": [status.value for status in Status],
        },
        "args": {"type": "object", "additionalProperties": {}},
        "result": {
            "type": "object",
            "properties": {
                "output": {"description": "What train() returned"},
                "finish_date": {"type": "string"},
                "duration": {"type": "string", "description": "Run time"},
            },
        },
        "message": {"type": "string", "description": "Why it failed"},
        "progress": {
            "type": "object",
            "description": "What train() reported last (report_progress); 1.0 once done",
            "properties": {
                "fraction": {"type": "number", "minimum": 0, "maximum": 1},
                "message": {"type": "string"},
            },
        },
        "request_id": {
            "type": "string",
            "description": "The X-Request-ID of the request that submitted the training "
            "(its log lines carry it), not of the request reading the record",
        },
    },
}

LINK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "href": {"type": "string"},
    },
}

MODEL: dict[str, Any] = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
    },
    "additionalProperties": {},
}

VERSION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "version": {"type": "string"},
        "id": {"type": "string"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
    },
}

COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": ERROR,
    "Training": TRAINING,
    "Link": LINK,
    "Model": MODEL,
    "Version": VERSION,
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}
