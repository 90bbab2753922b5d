"""Bearer tokens from a file (``--auth-token-file``), an ``Authenticator``.

The token file holds one token a line; blank lines and ``#`` comments are skipped. It
is read at start-up and again on SIGHUP (a file that cannot be read then keeps the
tokens in force). Tokens are compared in constant time, each of them every time.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path

from aiohttp import web

from deepaas_lite.config import Settings
from deepaas_lite.web import reloads
from deepaas_lite.web.authenticator import AuthSetupError

LOG = logging.getLogger(__name__)

CHALLENGE = 'Bearer realm="deepaas-lite"'


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else ``None``."""
    if authorization is None:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


class TokenFileError(AuthSetupError):
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
    """The tokens in force, read from a file: an ``Authenticator``."""

    challenge = CHALLENGE
    credentials = "a token of the server's --auth-token-file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tokens = read_tokens(path)

    def describe(self) -> str:
        return f"bearer tokens of {self.path}"

    async def allows(self, request: web.Request) -> bool:
        return self.accepts(request.headers.get("Authorization"))

    def attach(self, app: web.Application) -> None:
        reloads.register(app, self.reload)

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
        sent = bearer_token(authorization)
        if sent is None:
            return False
        given = sent.encode()
        found = False
        for token in self._tokens:  # no early exit: the time does not tell which matched
            found |= hmac.compare_digest(given, token)
        return found


def from_settings(settings: Settings) -> Tokens | None:
    """The tokens of ``--auth-token-file``, if it is set."""
    return None if settings.auth_token_file is None else Tokens(settings.auth_token_file)
