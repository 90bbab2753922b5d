"""The bearer scheme in both API documents, when the server requires tokens."""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from deepaas_lite.http_errors import UNAUTHORIZED

JSON = "application/json"

BEARER = "bearer"


def with_bearer_auth(
    document: dict[str, Any],
    operations: Collection[str],
    credentials: str = "a token of the server's --auth-token-file",
) -> dict[str, Any]:
    """``document`` declaring the bearer scheme on the operations named ``operations``.

    ``operations`` are route operation names (``predict``, ``train``, ...); a model's
    operation id is ``<model id>.<operation>``. OpenAPI 3 gets
    ``components.securitySchemes``, Swagger 2.0 ``securityDefinitions``, so Swagger
    UI's Authorize button asks for the token. ``credentials`` says what the token is
    (the authenticator's ``credentials``).
    """
    out = copy.deepcopy(document)
    if str(out.get("swagger", "")).startswith("2"):
        scheme = {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": f"'Bearer <token>', {credentials}",
        }
        out.setdefault("securityDefinitions", {})[BEARER] = scheme
    else:
        scheme = {
            "type": "http",
            "scheme": "bearer",
            "description": credentials[:1].upper() + credentials[1:],
        }
        out.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = scheme
    unauthorized = _unauthorized(out)
    for path_item in out.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            if operation["operationId"].rsplit(".", 1)[-1] in operations:
                operation["security"] = [{BEARER: []}]
                operation.setdefault("responses", {}).setdefault(
                    str(UNAUTHORIZED.status), unauthorized
                )
    return out


def _unauthorized(document: dict[str, Any]) -> dict[str, Any]:
    """The 401 response, in the document's error shape when it has one."""
    response: dict[str, Any] = {"description": UNAUTHORIZED.description}
    if "Error" in document.get("definitions", {}):
        response["schema"] = {"$ref": "#/definitions/Error"}
    elif "Error" in document.get("components", {}).get("schemas", {}):
        schema = {"$ref": "#/components/schemas/Error"}
        example = {"code": UNAUTHORIZED.status, "message": UNAUTHORIZED.example}
        response["content"] = {JSON: {"schema": schema, "example": example}}
    return response
