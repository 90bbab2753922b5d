"""What an authenticator is: who may call a protected route.

One module per way to authenticate implements ``Authenticator`` (bearer tokens from a
file: ``web/tokens.py``), reads its option from the settings, and is listed in
``web/auth.py``'s ``AUTHENTICATORS``. Nothing else knows which one is in use.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web


class AuthSetupError(Exception):
    """An authenticator cannot start (its file cannot be read, its options are wrong)."""


class Authenticator(Protocol):
    """Checks a request's credentials for the routes that need them.

    ``challenge`` is the ``WWW-Authenticate`` value of a 401; ``credentials`` says, in
    the API documents, what a client sends (e.g. "a token of the server's
    --auth-token-file"); every scheme is HTTP bearer.
    """

    challenge: str
    credentials: str

    def describe(self) -> str:
        """One line for the start-up banner, e.g. "bearer tokens of /etc/tokens"."""
        ...

    async def allows(self, request: web.Request) -> bool:
        """Whether ``request`` carries credentials this authenticator accepts (a verifier
        may await what it needs, e.g. an identity provider's keys)."""
        ...

    def attach(self, app: web.Application) -> None:
        """Hook what it needs into ``app`` (reloads on SIGHUP, a key cache, ...)."""
        ...
