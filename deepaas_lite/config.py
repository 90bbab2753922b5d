"""Options, as oslo.config options: flags, ``--config-file`` and the generated sample."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from oslo_config import cfg

from deepaas_lite import __version__

MIB = 1024 * 1024

DEFAULT_STATE_DIR = platformdirs.user_data_dir("deepaas-lite")

OPTS: list[cfg.Opt] = [
    cfg.HostAddressOpt("listen-ip", default="127.0.0.1", help="IP address the server listens on."),
    cfg.PortOpt("listen-port", default=5000, help="TCP port the server listens on."),
    cfg.MultiStrOpt(
        "model-name",
        default=[],
        help="Serve only this model (an entry-point name of the deepaas.v2.model "
        "group). Repeat it to serve several. Default: every installed model.",
    ),
    cfg.StrOpt(
        "state-dir",
        default=DEFAULT_STATE_DIR,
        sample_default="~/.local/share/deepaas-lite",
        help="Directory for training records, logs and training inputs.",
    ),
    cfg.IntOpt(
        "client-max-size",
        default=100 * MIB,
        min=0,
        help="Largest request body accepted, in bytes; larger ones get 413. 0 means no limit.",
    ),
    cfg.IntOpt(
        "train-workers",
        default=1,
        min=1,
        help="How many trainings run at once; more wait as pending, in order.",
    ),
    cfg.IntOpt(
        "train-history",
        default=100,
        min=1,
        help="Finished training records kept per model; older ones are pruned with their logs.",
    ),
    cfg.IntOpt(
        "predict-workers",
        default=0,
        min=0,
        help="Run predictions in a pool of this many warmed worker processes per "
        "model (for CPU-bound models). 0 runs them in threads of the server "
        "process.",
    ),
    cfg.StrOpt(
        "base-path",
        default="",
        help="Serve everything (API, spec, UI) under this path prefix, e.g. "
        "/deepaas behind a reverse proxy.",
    ),
    cfg.BoolOpt(
        "warm",
        default=True,
        help="Call each model's warm() before reporting ready.",
    ),
    cfg.BoolOpt("debug", default=False, help="Log at debug level."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options, for ``oslo-config-generator`` (entry point ``oslo.config.opts``)."""
    return [("DEFAULT", OPTS)]


def parse(argv: Sequence[str] | None = None, prog: str = "deepaas-run") -> cfg.ConfigOpts:
    """Parse flags and config files into a fresh ``ConfigOpts``."""
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(OPTS)
    conf(
        list(argv) if argv is not None else None,
        project="deepaas-lite",
        prog=prog,
        version=__version__,
        default_config_files=[],
        default_config_dirs=[],
    )
    return conf


def normalise_base_path(path: str) -> str:
    """``"deepaas/"`` -> ``"/deepaas"``; ``""`` and ``"/"`` -> ``""``."""
    path = path.strip().strip("/")
    return f"/{path}" if path else ""


@dataclass(frozen=True)
class Settings:
    """What the server needs from the options, free of oslo.config."""

    state_dir: Path = Path(DEFAULT_STATE_DIR)
    base_path: str = ""
    client_max_size: int = 100 * MIB
    train_workers: int = 1
    train_history: int = 100
    predict_workers: int = 0
    warm: bool = True

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> Settings:
        return cls(
            state_dir=Path(conf.state_dir).expanduser(),
            base_path=normalise_base_path(conf.base_path),
            client_max_size=conf.client_max_size,
            train_workers=conf.train_workers,
            train_history=conf.train_history,
            predict_workers=conf.predict_workers,
            warm=conf.warm,
        )
