"""Logging options: level, format, the access log.

DEEPaaS's oslo.log spellings (``--log-file``, ``--use-json``...) are in
``deepaas_lite/compat``; ``deepaas-run`` reads these options before any model loads.
"""

from __future__ import annotations

from oslo_config import cfg

DEBUG = cfg.BoolOpt("debug", short="d", default=False, help="Log at debug level.")
LOG_FORMAT = cfg.StrOpt(
    "log-format",
    default="text",
    choices=["text", "json"],
    help="How log lines are written to stderr: text, or JSON objects one a line.",
)
ACCESS_LOG = cfg.BoolOpt(
    "access-log",
    default=True,
    help="Log one line per request (method, path, status, duration, model, request "
    "id). --noaccess-log leaves it out (it costs about 10-20 us a request).",
)

OPTS: list[cfg.Opt] = [DEBUG, LOG_FORMAT, ACCESS_LOG]
