"""Options, as oslo.config options: flags, ``--config-file`` and the generated sample.

One module per concern states its options and the settings read from them, each
default once (``setting.py``), and is listed in ``CONCERNS``: ``server``, ``limits``,
``predictions``, ``jobs``, ``trainings``, ``security``, ``log``, ``executors``;
``models`` holds the ``[model:<id>]`` sections. Here: the whole list (``list_opts``, the
``oslo.config.opts`` entry point), ``parse`` (its messages: ``command_line.py``) and
``Settings``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from oslo_config import cfg

from deepaas_lite import __version__
from deepaas_lite.compat import oslo_log
from deepaas_lite.config import (
    command_line,
    executors,
    jobs,
    limits,
    log,
    predictions,
    security,
    server,
    trainings,
)
from deepaas_lite.config.executors import ExecutorSettings, RayOptions
from deepaas_lite.config.jobs import JobSettings
from deepaas_lite.config.limits import LimitSettings
from deepaas_lite.config.models import (
    MODEL_FIELDS,
    MODEL_GROUP_PREFIX,
    MODEL_OPTS,
    ModelOptions,
    read_model_options,
    register_model_groups,
)
from deepaas_lite.config.predictions import PredictionSettings
from deepaas_lite.config.security import SecuritySettings
from deepaas_lite.config.server import ServerSettings, normalise_base_path
from deepaas_lite.config.setting import MIB, read_settings
from deepaas_lite.config.trainings import DEFAULT_STATE_DIR, TrainingSettings

__all__ = [
    "DEFAULT_STATE_DIR",
    "MIB",
    "MODEL_GROUP_PREFIX",
    "MODEL_OPTS",
    "OPTS",
    "ModelOptions",
    "RayOptions",
    "Settings",
    "list_opts",
    "normalise_base_path",
    "parse",
    "register_model_groups",
]

# The options by concern, in the order of the sample and of --help's sections.
CONCERNS: dict[str, list[cfg.Opt]] = {
    "server": server.OPTS,
    "limits": limits.OPTS,
    "predictions": predictions.OPTS,
    "prediction jobs": jobs.OPTS,
    "trainings": trainings.OPTS,
    "security": security.OPTS,
    "logging": log.OPTS,
    "executors": executors.OPTS,
}
OPTS: list[cfg.Opt] = [opt for opts in CONCERNS.values() for opt in opts]

# DEEPaaS's oslo.log flags, apart in --help.
_COMPAT_SECTIONS: list[command_line.Section] = [
    ("DEEPaaS (oslo.log) logging options", oslo_log.HONOURED),
    ("accepted for DEEPaaS (oslo.log) compatibility and ignored", oslo_log.IGNORED),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options, for ``oslo-config-generator`` (entry point ``oslo.config.opts``).

    ``[model:<id>]`` stands for one section per model, e.g. ``[model:iris-deepaas]``.
    """
    return [("DEFAULT", OPTS + oslo_log.OPTS), (MODEL_GROUP_PREFIX + "<id>", MODEL_OPTS)]


def parse(argv: Sequence[str] | None = None, prog: str = "deepaas-run") -> cfg.ConfigOpts:
    """Parse flags and config files into a fresh ``ConfigOpts``.

    A mistake in the flags is one line on stderr and ``SystemExit`` (``command_line``).
    """
    conf = cfg.ConfigOpts()
    conf.register_cli_opts([_with_default_in_help(opt) for opt in OPTS])
    conf.register_cli_opts(oslo_log.OPTS)
    sections = [*((f"{title} options", opts) for title, opts in CONCERNS.items())]
    with command_line.worded(prog, [*sections, *_COMPAT_SECTIONS]):
        conf(
            list(argv) if argv is not None else None,
            project="deepaas-lite",
            prog=prog,
            version=__version__,
            usage=command_line.USAGE,
            default_config_files=[],
            default_config_dirs=[],
        )
    oslo_log.normalise(conf)
    return conf


def _with_default_in_help(opt: cfg.Opt) -> cfg.Opt:
    """``opt`` for ``--help``: its help ends with its default, unless it says it already."""
    default = opt.sample_default if opt.sample_default is not None else opt.default
    if default in (None, "", []) or "Default:" in (opt.help or ""):
        return opt
    shown = default if not isinstance(default, bool) else str(default).lower()
    described = copy.copy(opt)
    described.help = f"{opt.help} (default: {shown})"
    return described


@dataclass(frozen=True)
class Settings(
    ServerSettings,
    LimitSettings,
    PredictionSettings,
    JobSettings,
    TrainingSettings,
    SecuritySettings,
    ExecutorSettings,
):
    """What the server needs from the options, free of oslo.config.

    Its fields are the concerns' settings; their defaults are the options' defaults.
    """

    model_options: Mapping[str, ModelOptions] = field(default_factory=dict)

    def options_for(self, model_id: str) -> ModelOptions:
        """A model's options: its own section first, then the global ones.

        Every field is set but the batch options, which stay ``None`` when the operator
        set neither (the plugin's attributes decide then).
        """
        own = self.model_options.get(model_id, ModelOptions())
        unset = {name: getattr(self, name) for name in MODEL_FIELDS if getattr(own, name) is None}
        return replace(own, **unset)

    def train_timeouts(self, model_ids: Iterable[str]) -> dict[str, float]:
        """Each model's training time limit in seconds (0: none), its section first."""
        return {model_id: self.options_for(model_id).train_timeout or 0.0 for model_id in model_ids}

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, model_ids: Iterable[str] = ()) -> Settings:
        """Settings from parsed options; ``[model:<id>]`` sections of ``model_ids`` too."""
        return cls(**read_settings(cls, conf), model_options=read_model_options(conf, model_ids))
