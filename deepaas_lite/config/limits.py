"""What one client may cost the server: JSON bodies, slow requests, open connections."""

from __future__ import annotations

from dataclasses import dataclass

from oslo_config import cfg

from deepaas_lite.config.setting import MIB, setting

JSON_MAX_SIZE = cfg.IntOpt(
    "json-max-size",
    default=4 * MIB,
    min=0,
    help="Largest JSON or urlencoded request body, in bytes; larger ones get 413 "
    "(large data travels as files of a multipart/form-data body, up to "
    "--client-max-size). Such a body is read whole into memory before its arguments. "
    "0 means --client-max-size.",
)
HEADER_TIMEOUT = cfg.FloatOpt(
    "header-timeout",
    default=10.0,
    min=0,
    help="Seconds a client has to send a request's line and headers, from its first "
    "byte (or from connecting); past them the connection is closed. 0 means no limit.",
)
BODY_TIMEOUT = cfg.FloatOpt(
    "body-timeout",
    default=30.0,
    min=0,
    help="Seconds a request body may go without sending anything while it is read; "
    "past them the answer is 408 and the connection is closed. 0 means no limit.",
)
IDLE_TIMEOUT = cfg.FloatOpt(
    "idle-timeout",
    default=75.0,
    min=0,
    help="Seconds a kept-alive connection may stay idle between requests before it "
    "is closed (keep it longer than a reverse proxy's own idle timeout).",
)
MAX_CONNECTIONS = cfg.IntOpt(
    "max-connections",
    default=0,
    min=0,
    help="Open client connections at most; at the limit the server stops accepting "
    "(new clients wait in the listen queue) until one closes. 0 means the open-file "
    "limit (ulimit -n) less 100 kept for the server's own files and processes.",
)

OPTS: list[cfg.Opt] = [JSON_MAX_SIZE, HEADER_TIMEOUT, BODY_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS]


@dataclass(frozen=True)
class LimitSettings:
    json_max_size: int = setting(JSON_MAX_SIZE)
    header_timeout: float = setting(HEADER_TIMEOUT)
    body_timeout: float = setting(BODY_TIMEOUT)
    idle_timeout: float = setting(IDLE_TIMEOUT)
    max_connections: int = setting(MAX_CONNECTIONS)
