"""Browser origins: CORS for the origins the operator names, and two guards.

- ``cors_middleware`` answers preflights (``OPTIONS`` with
  ``Access-Control-Request-Method``) and adds the CORS headers for the origins of
  ``--cors-origin`` (``*``: every origin). It sits outside the error middleware, so
  that error answers carry the headers too.
- ``guard(settings)`` refuses (403) a request whose ``Host`` header is not one the
  server serves (``allowed_hosts``: ``--allowed-host``, else worked out from the listen
  address; against DNS rebinding), and a state-changing request (POST, DELETE, ...)
  whose ``Origin`` names another origin that is not allowed (cross-site form posts).
  Health stays open to any Host, for probes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from yarl import URL

from deepaas_lite.config import Settings
from deepaas_lite.http_errors import FORBIDDEN
from deepaas_lite.web.errors import error_response
from deepaas_lite.web.hosts import allowed_hosts
from deepaas_lite.web.keys import SETTINGS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Accept, X-Request-ID"
EXPOSE_HEADERS = "Location, Retry-After, X-Request-ID"
PREFLIGHT_MAX_AGE = "600"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _split(host: str) -> tuple[str, str | None]:
    """``"Example.org:80"`` -> ``("example.org", "80")``; ``"[::1]"`` -> ``("[::1]", None)``."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        return name + "]", rest[1:] if rest.startswith(":") else None
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, port
    return host, None


# A Host value: a name or an IPv4 address, or an IPv6 address in brackets; no user
# part ("localhost:5401@evil"), no path.
_HOST_NAME = re.compile(r"[a-z0-9_.-]+|\[[0-9a-f:.]+\]")


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """Whether a ``Host`` value is served: an entry without a port matches any port.
    A value that is no host (a user part, a path, a port that is no number) is not."""
    name, port = _split(host)
    if _HOST_NAME.fullmatch(name) is None or (port is not None and not port.isdigit()):
        return False
    for entry in allowed:
        entry_name, entry_port = _split(entry)
        if entry_name == name and (entry_port is None or entry_port == port):
            return True
    return False


# The guard's answers, remembered: a server is reached under a few Host values.
_host_served = functools.lru_cache(maxsize=256)(host_allowed)


def same_origin(origin: str, host: str) -> bool:
    """Whether the ``Origin`` header names the server reached through ``host``."""
    try:
        url = URL(origin)
    except ValueError:
        return False
    if not url.absolute or url.host is None or url.scheme not in _DEFAULT_PORTS:
        return False
    name = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port if url.port is not None else _DEFAULT_PORTS[url.scheme]
    host_name, host_port = _split(host)
    if host_port is None:
        host_port = str(_DEFAULT_PORTS[url.scheme])
    return (name.lower(), str(port)) == (host_name, host_port)


def cors_allows(origin: str, cors_origins: Sequence[str]) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``; ``None``: not allowed."""
    if "*" in cors_origins:
        return "*"
    return origin if origin.rstrip("/") in (o.rstrip("/") for o in cors_origins) else None


def _cors_headers(allow: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": allow,
        "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        "Vary": "Origin",
    }


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    cors_origins = request.app[SETTINGS].cors_origins
    origin = request.headers.get("Origin")
    if not cors_origins or origin is None:
        return await handler(request)
    allow = cors_allows(origin, cors_origins)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        if allow is None:
            return error_response(
                FORBIDDEN.status, f"Origin '{origin}' is not allowed (see --cors-origin)"
            )
        requested = request.headers.get("Access-Control-Request-Headers")
        return web.Response(
            status=204,
            headers={
                **_cors_headers(allow),
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": requested or ALLOW_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            },
        )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if allow is not None:
            exc.headers.update(_cors_headers(allow))
        raise
    if allow is not None:
        response.headers.update(_cors_headers(allow))
    return response


def _is_health(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    base = request.app[SETTINGS].base_path
    return resource is not None and resource.canonical.startswith(base + "/v2/health/")


def guard(settings: Settings) -> Middleware:
    """The Host and Origin guard of a server run with ``settings``."""
    served = allowed_hosts(settings.listen_ip, settings.allowed_hosts)

    @web.middleware
    async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        if (
            served
            and host is not None
            and not _host_served(host, served)
            and not _is_health(request)
        ):
            raise web.HTTPForbidden(text=f"Host '{host}' is not served here (see --allowed-host)")
        origin = request.headers.get("Origin")
        if (
            request.method not in SAFE_METHODS
            and origin is not None
            and not same_origin(origin, host or "")
            and cors_allows(origin, settings.cors_origins) is None
        ):
            raise web.HTTPForbidden(
                text=f"Cross-origin request from '{origin}' refused (see --cors-origin)"
            )
        return await handler(request)

    return guard_middleware
