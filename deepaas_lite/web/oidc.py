"""JSON Web Tokens of an OpenID Connect provider (``--auth-oidc-issuer``), an ``Authenticator``.

A protected route needs ``Authorization: Bearer <JWT>``: signed by one of the issuer's
keys, unexpired, issued by ``--auth-oidc-issuer`` for ``--auth-oidc-audience``. The keys
are the issuer's JWKS, found through ``<issuer>/.well-known/openid-configuration``: read
at start (an issuer that cannot be reached stops the start), and again when a token
names a key not known yet (key rotation), at most once every ``REFRESH_AFTER``
seconds, off the event loop. PyJWT verifies; only asymmetric algorithms are accepted,
each key with its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from typing import Any

import jwt
from aiohttp import web

from deepaas_lite.config import Settings
from deepaas_lite.web.authenticator import AuthSetupError
from deepaas_lite.web.tokens import CHALLENGE, bearer_token

LOG = logging.getLogger(__name__)

DISCOVERY = "/.well-known/openid-configuration"
REFRESH_AFTER = 60.0  # seconds between two reads of the keys for an unknown key id
FETCH_TIMEOUT = 10.0
SIGNED_WITH = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:
        return json.loads(answer.read())


def fetch_keys(issuer: str) -> dict[str, jwt.PyJWK]:
    """The issuer's signing keys by key id; ``AuthSetupError`` when they cannot be read."""
    try:
        configuration = _get_json(issuer.rstrip("/") + DISCOVERY)
        found = jwt.PyJWKSet.from_dict(_get_json(configuration["jwks_uri"]))
    except (OSError, ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
        raise AuthSetupError(f"cannot read the signing keys of {issuer}: {exc}") from exc
    keys = {
        key.key_id: key
        for key in found.keys
        if key.key_id and key.algorithm_name in SIGNED_WITH and key.public_key_use in (None, "sig")
    }
    if not keys:
        raise AuthSetupError(f"{issuer} publishes no signing key with an id (kid)")
    return keys


class OidcTokens:
    """The JWTs an OpenID Connect provider issues for this server: an ``Authenticator``."""

    challenge = CHALLENGE
    credentials = "a JWT of the server's --auth-oidc-issuer"

    def __init__(self, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = fetch_keys(issuer)
        self._fetched = time.monotonic()

    def describe(self) -> str:
        return f"JWTs of {self.issuer} for {self.audience}"

    async def allows(self, request: web.Request) -> bool:
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            return False
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        key = self._keys.get(key_id) if isinstance(key_id, str) else None
        if key is None and isinstance(key_id, str):
            key = await self._refreshed(key_id)
        if key is None:
            return False
        try:
            jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            return False
        return True

    def attach(self, app: web.Application) -> None:
        """Nothing to hook: the keys are read again when a token asks for a new one."""

    async def _refreshed(self, key_id: str) -> jwt.PyJWK | None:
        """The key ``key_id`` after reading the keys again, if not read too recently."""
        if time.monotonic() - self._fetched < REFRESH_AFTER:
            return None
        self._fetched = time.monotonic()
        try:
            self._keys = await asyncio.to_thread(fetch_keys, self.issuer)
        except AuthSetupError as exc:
            LOG.error("Signing keys not reloaded, %d kept: %s", len(self._keys), exc)
            return None
        LOG.info("Signing keys of %s reloaded: %d key(s)", self.issuer, len(self._keys))
        return self._keys.get(key_id)


def from_settings(settings: Settings) -> OidcTokens | None:
    """The JWTs of ``--auth-oidc-issuer`` for ``--auth-oidc-audience``, if set."""
    if settings.auth_oidc_issuer is None:
        return None
    if not settings.auth_oidc_audience:
        raise AuthSetupError("--auth-oidc-issuer needs --auth-oidc-audience")
    return OidcTokens(settings.auth_oidc_issuer, settings.auth_oidc_audience)
