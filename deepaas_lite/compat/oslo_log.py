"""DEEPaaS's logging options (oslo.log's), accepted by ``deepaas-run``.

A DEEPaaS command line or config file keeps working: ``--log-file``, ``--log-dir``
(and their old spellings ``--logfile``, ``--logdir``) write the log to that file as
well as to stderr; ``--use-json`` is ``--log-format json``; the others are accepted and
named in a warning, since deepaas-lite does not implement them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from oslo_config import cfg

LOG = logging.getLogger(__name__)

HONOURED: list[cfg.Opt] = [
    cfg.StrOpt(
        "log-file",
        deprecated_name="logfile",
        metavar="PATH",
        help="Also write the log to this file (relative to --log-dir when that is set). "
        "DEEPaaS (oslo.log) spelling.",
    ),
    cfg.StrOpt(
        "log-dir",
        deprecated_name="logdir",
        help="Directory of --log-file; alone, the log goes to <log-dir>/deepaas-run.log. "
        "DEEPaaS (oslo.log) spelling.",
    ),
    cfg.BoolOpt(
        "use-json",
        default=False,
        help="Write JSON log lines: the same as --log-format json. DEEPaaS (oslo.log) spelling.",
    ),
]

IGNORED: list[cfg.Opt] = [
    cfg.StrOpt(
        "log-config-append",
        deprecated_name="log-config",
        metavar="PATH",
        help="Accepted for DEEPaaS (oslo.log) compatibility and ignored, with a warning.",
    ),
    cfg.StrOpt("log-date-format", help="Accepted for DEEPaaS compatibility; ignored."),
    cfg.BoolOpt("use-syslog", help="Accepted for DEEPaaS compatibility; ignored."),
    cfg.StrOpt("syslog-log-facility", help="Accepted for DEEPaaS compatibility; ignored."),
    cfg.BoolOpt("use-journal", help="Accepted for DEEPaaS compatibility; ignored."),
    cfg.BoolOpt("use-eventlog", help="Accepted for DEEPaaS compatibility; ignored."),
    cfg.BoolOpt("use-stderr", help="Accepted for DEEPaaS compatibility; ignored."),
    cfg.BoolOpt("watch-log-file", help="Accepted for DEEPaaS compatibility; ignored."),
]

OPTS: list[cfg.Opt] = HONOURED + IGNORED

DEFAULT_LOG_NAME = "deepaas-run.log"


def log_path(conf: cfg.ConfigOpts) -> Path | None:
    """Where ``--log-file``/``--log-dir`` send the log, as oslo.log reads them."""
    if conf.log_file:
        path = Path(conf.log_file).expanduser()
        return Path(conf.log_dir).expanduser() / path if conf.log_dir else path
    if conf.log_dir:
        return Path(conf.log_dir).expanduser() / DEFAULT_LOG_NAME
    return None


def ignored_options(conf: cfg.ConfigOpts) -> list[str]:
    """The ignored options that are set (a false boolean is as good as unset)."""
    return [f"--{opt.name}" for opt in IGNORED if conf[opt.dest]]


def add_file_handler(path: Path, formatter_of: logging.Handler | None = None) -> logging.Handler:
    """Also write the root logger's records to ``path`` (its directory is created).

    The file gets the formatter and filters of ``formatter_of`` (the stderr handler),
    so it has the same lines.
    """
    os.makedirs(path.parent, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    if formatter_of is not None:
        if formatter_of.formatter is not None:
            handler.setFormatter(formatter_of.formatter)
        for log_filter in formatter_of.filters:
            handler.addFilter(log_filter)
    logging.getLogger().addHandler(handler)
    return handler


def normalise(conf: cfg.ConfigOpts) -> None:
    """Right after parsing: ``--use-json`` sets ``--log-format json``."""
    if conf.use_json and "log_format" in conf:
        conf.set_override("log_format", "json")


def apply(conf: cfg.ConfigOpts) -> None:
    """After the log is set up: add the file handler, warn about ignored options."""
    path = log_path(conf)
    if path is not None:
        root = logging.getLogger()
        add_file_handler(path, root.handlers[0] if root.handlers else None)
    for name in ignored_options(conf):
        LOG.warning("%s is a DEEPaaS (oslo.log) option that deepaas-lite ignores", name)
