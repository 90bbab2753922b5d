"""Access control: the routes that need credentials, and the authenticator that checks them.

A route says whether it needs credentials (``Route.protected``: predict, infer, the
trainings, their records and logs, the model store; ``/metrics`` with
``--metrics-auth``). The options choose at most one authenticator (``AUTHENTICATORS``;
today bearer tokens from ``--auth-token-file``, ``web/tokens.py``); without one every
route is open. With one, a request to a protected route that it does not allow is
a 401 with its challenge. Open: the API index, the model list and descriptions, health,
readiness, the spec documents and the UI.

Another way to authenticate (OIDC/JWT...) is one module with an ``Authenticator``
(``web/authenticator.py``) and its option, listed below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web
from aiohttp.typedefs import Handler

from deepaas_lite.config import Settings
from deepaas_lite.http_errors import UNAUTHORIZED, WWW_AUTHENTICATE
from deepaas_lite.web import tokens
from deepaas_lite.web.authenticator import Authenticator, AuthSetupError
from deepaas_lite.web.routes import METRICS, Route

__all__ = ["AUTHENTICATORS", "AuthSetupError", "Authenticator", "from_settings"]


def _oidc(settings: Settings) -> Authenticator | None:
    if settings.auth_oidc_issuer is None:
        return None
    try:
        from deepaas_lite.web import oidc  # PyJWT: the oidc extra
    except ImportError as exc:
        raise AuthSetupError(
            "--auth-oidc-issuer needs the oidc extra (pip install "
            f"'<deepaas-lite's source tree>[oidc]', or PyJWT): {exc}"
        ) from exc
    return oidc.from_settings(settings)


# Each reads its own option; ``None`` when that option is not set.
AUTHENTICATORS: tuple[Callable[[Settings], Authenticator | None], ...] = (
    tokens.from_settings,
    _oidc,
)

AUTHENTICATOR = web.AppKey[Authenticator]("authenticator")
PROTECTED = web.AppKey("protected_paths", frozenset[str])


def from_settings(settings: Settings) -> Authenticator | None:
    """The authenticator the options ask for; ``None``: every route is open."""
    chosen = [found for factory in AUTHENTICATORS if (found := factory(settings)) is not None]
    if len(chosen) > 1:
        raise AuthSetupError("more than one way to authenticate is configured; choose one")
    return chosen[0] if chosen else None


def protected_routes(routes: Iterable[Route], metrics_auth: bool = False) -> list[Route]:
    """The routes that need credentials: the protected ones, ``/metrics`` if asked."""
    return [route for route in routes if route.protected or (metrics_auth and route.doc is METRICS)]


def protect(
    app: web.Application, authenticator: Authenticator, base_path: str, routes: Iterable[Route]
) -> None:
    """Have ``authenticator`` check ``routes`` of ``app`` (``auth_middleware``)."""
    app[AUTHENTICATOR] = authenticator
    paths = set()
    for route in routes:
        full = base_path + route.path
        paths.update({full, full + "/"})
    app[PROTECTED] = frozenset(paths)
    authenticator.attach(app)


def _needs_credentials(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    return resource is not None and resource.canonical in request.app[PROTECTED]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A protected route without credentials the authenticator allows is a 401."""
    authenticator = request.app.get(AUTHENTICATOR)
    if (
        authenticator is not None
        and _needs_credentials(request)
        and not await authenticator.allows(request)
    ):
        raise web.HTTPUnauthorized(
            text=UNAUTHORIZED.example, headers={WWW_AUTHENTICATE: authenticator.challenge}
        )
    return await handler(request)
