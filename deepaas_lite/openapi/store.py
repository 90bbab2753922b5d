"""How both API documents describe a model's store: its versions, and making an older
one current again (``web/store.py``)."""

from __future__ import annotations

from typing import Any

from deepaas_lite.model.wrapper import ModelWrapper

JSON = "application/json"

_VERSION = {
    "type": "object",
    "properties": {
        "version": {"type": "string", "description": "The uuid of the training that wrote it"},
        "date": {"type": "string", "description": "When its training ended"},
        "current": {"type": "boolean"},
    },
}


def _store(nullable: dict[str, Any]) -> dict[str, Any]:
    """The store's schema; ``nullable`` marks a string that may be null (OpenAPI 3:
    ``nullable``; Swagger 2.0: ``x-nullable``)."""
    return {
        "type": "object",
        "properties": {
            "current": {
                "type": "string",
                **nullable,
                "description": "The current version (null before the first training "
                "that writes one)",
            },
            "served": {
                "type": "string",
                **nullable,
                "description": "The version the predictions use now (the previous one "
                "while a new current version loads; null before any)",
            },
            "versions": {"type": "array", "items": _VERSION, "description": "Oldest first"},
            "failed": {
                "type": "object",
                "description": "The last version that could not be loaded (the previous "
                "one goes on serving), and why; absent when the last load went well",
                "properties": {"version": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    }


STORE = _store({"nullable": True})
STORE_SWAGGER2 = _store({"x-nullable": True})
_DESCRIPTION = "The model store: its versions, the current one and the one served"
_MADE_CURRENT = "The store, the version current (served once it has loaded)"
_QUERY = {
    "name": "version",
    "in": "query",
    "required": True,
    "description": "The version to make current again (a training's uuid)",
}


def store(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_train:
        return None
    content = {JSON: {"schema": STORE}}
    return {"responses": {"200": {"description": _DESCRIPTION, "content": content}}}


def make_current(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_train:
        return None
    content = {JSON: {"schema": STORE}}
    return {
        "parameters": [{**_QUERY, "schema": {"type": "string", "minLength": 1}}],
        "responses": {"200": {"description": _MADE_CURRENT, "content": content}},
    }


def store_swagger2(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_train:
        return None
    return {
        "produces": [JSON],
        "responses": {"200": {"description": _DESCRIPTION, "schema": STORE_SWAGGER2}},
    }


def make_current_swagger2(builder: Any, model: ModelWrapper) -> dict[str, Any] | None:
    if not model.can_train:
        return None
    return {
        "produces": [JSON],
        "parameters": [{**_QUERY, "type": "string", "minLength": 1}],
        "responses": {"200": {"description": _MADE_CURRENT, "schema": STORE_SWAGGER2}},
    }
