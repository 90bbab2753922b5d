"""Security options: access control, TLS and browser origins (docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from oslo_config import cfg

from deepaas_lite.config.setting import setting


def _path_or_none(value: str | None) -> Path | None:
    return Path(value) if value else None


AUTH_TOKEN_FILE = cfg.StrOpt(
    "auth-token-file",
    help="File of bearer tokens, one a line (# starts a comment). When set, every "
    "model route (predict, train, trainings, logs) needs 'Authorization: Bearer "
    "<token>'. Read again on SIGHUP.",
)
METRICS_AUTH = cfg.BoolOpt(
    "metrics-auth",
    default=False,
    help="With --auth-token-file, /metrics needs a token too.",
)
AUTH_OIDC_ISSUER = cfg.StrOpt(
    "auth-oidc-issuer",
    help="An OpenID Connect provider (its issuer URL, e.g. https://login.example.org/"
    "realms/ai): every protected route then needs 'Authorization: Bearer <JWT>' signed "
    "by one of its keys, unexpired, for --auth-oidc-audience. Needs the oidc extra.",
)
AUTH_OIDC_AUDIENCE = cfg.StrOpt(
    "auth-oidc-audience",
    help="With --auth-oidc-issuer: the audience (aud) a token must be issued for, "
    "usually this API's client id at the provider.",
)
SSL_CERTFILE = cfg.StrOpt("ssl-certfile", help="Serve HTTPS with this PEM certificate (chain).")
SSL_KEYFILE = cfg.StrOpt("ssl-keyfile", help="The private key of --ssl-certfile (PEM).")
CORS_ORIGIN = cfg.MultiStrOpt(
    "cors-origin",
    default=[],
    help="A browser origin (e.g. https://app.example.org) allowed to call the API "
    "from its pages; repeat for several; * allows every origin. Default: none, and "
    "state-changing requests from other origins are refused.",
)
ALLOWED_HOST = cfg.MultiStrOpt(
    "allowed-host",
    default=[],
    help="A Host header value the server answers (a name, with or without :port); "
    "repeat for several; * allows any. Default: the listen address, plus localhost, "
    "127.0.0.1 and [::1] when listening on loopback; any Host when listening on "
    "all addresses.",
)

OPTS: list[cfg.Opt] = [
    AUTH_TOKEN_FILE,
    AUTH_OIDC_ISSUER,
    AUTH_OIDC_AUDIENCE,
    METRICS_AUTH,
    SSL_CERTFILE,
    SSL_KEYFILE,
    CORS_ORIGIN,
    ALLOWED_HOST,
]


@dataclass(frozen=True)
class SecuritySettings:
    auth_token_file: Path | None = setting(AUTH_TOKEN_FILE, _path_or_none)
    auth_oidc_issuer: str | None = setting(AUTH_OIDC_ISSUER)
    auth_oidc_audience: str | None = setting(AUTH_OIDC_AUDIENCE)
    metrics_auth: bool = setting(METRICS_AUTH)
    ssl_certfile: str | None = setting(SSL_CERTFILE)
    ssl_keyfile: str | None = setting(SSL_KEYFILE)
    cors_origins: tuple[str, ...] = setting(CORS_ORIGIN, tuple)
    # --allowed-host as given; web/origins.py works out the default from listen_ip.
    allowed_hosts: tuple[str, ...] = setting(ALLOWED_HOST, tuple)
