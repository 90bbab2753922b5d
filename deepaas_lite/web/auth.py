"""Bearer tokens (``--auth-token-file``): who may use the model routes.

The token file holds one token a line; blank lines and ``#`` comments are skipped. It
is read at start-up and again on SIGHUP (a file that cannot be read then keeps the
tokens in force). Tokens are compared in constant time, each of them every time.

Protected: every route under ``/v2/models/{model_id}/`` (predict, train, the training
records, their logs, cancel) and ``/metrics`` with ``--metrics-auth``. Open: the API
index, the model list and descriptions, health, the spec documents and the UI.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from deepaas_lite.web import reloads
from deepaas_lite.web.routes import MODEL, Route

LOG = logging.getLogger(__name__)

CHALLENGE = 'Bearer realm="deepaas-lite"'


class TokenFileError(Exception):
    """The token file cannot be read or holds no token."""


def read_tokens(path: Path) -> tuple[bytes, ...]:
    """The tokens in ``path``; ``TokenFileError`` when unreadable or empty."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM some editors write is no token
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenFileError(f"cannot read the token file {path}: {exc}") from exc
    tokens = []
    for line in text.splitlines():
        token = line.split("#", 1)[0].strip()
        if token:
            tokens.append(token.encode())
    if not tokens:
        raise TokenFileError(f"the token file {path} holds no token")
    return tuple(tokens)


class Tokens:
    """The tokens in force, read from a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tokens = read_tokens(path)

    def __len__(self) -> int:
        return len(self._tokens)

    def reload(self) -> None:
        """Read the file again; on failure, keep the tokens in force and log why."""
        try:
            self._tokens = read_tokens(self.path)
        except TokenFileError as exc:
            LOG.error("Tokens not reloaded, %d kept: %s", len(self._tokens), exc)
            return
        LOG.info("Tokens reloaded from %s: %d token(s)", self.path, len(self._tokens))

    def accepts(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header value carries one of the tokens."""
        if authorization is None:
            return False
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        given = credentials.strip().encode()
        found = False
        for token in self._tokens:  # no early exit: the time does not tell which matched
            found |= hmac.compare_digest(given, token)
        return found


TOKENS = web.AppKey("tokens", Tokens)
PROTECTED = web.AppKey("protected_paths", frozenset[str])


def protected_routes(routes: Iterable[Route], metrics_auth: bool = False) -> list[Route]:
    """The routes that need a token: the model's own ones, ``/metrics`` if asked."""
    return [
        route
        for route in routes
        if route.path.startswith(MODEL + "/") or (metrics_auth and route.path == "/metrics")
    ]


def enable(
    app: web.Application, tokens_file: Path, base_path: str, routes: Iterable[Route]
) -> None:
    """Require a token on ``routes`` of ``app`` (``auth_middleware``); SIGHUP reloads."""
    app[TOKENS] = Tokens(tokens_file)
    paths = set()
    for route in routes:
        full = base_path + route.path
        paths.update({full, full + "/"})
    app[PROTECTED] = frozenset(paths)
    reloads.register(app, app[TOKENS].reload)


def _needs_token(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical in request.app[PROTECTED]


@web.middleware
async def auth_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """A protected route without a valid token is a 401 (when tokens are configured)."""
    tokens = request.app.get(TOKENS)
    if (
        tokens is not None
        and _needs_token(request)
        and not tokens.accepts(request.headers.get("Authorization"))
    ):
        raise web.HTTPUnauthorized(
            text="A valid bearer token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    response: web.StreamResponse = await handler(request)
    return response
