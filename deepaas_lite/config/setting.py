"""A setting: a field of ``Settings`` whose default and value come from one option.

``setting(opt)`` states the option once: the field's default is the option's, and
``read_settings`` fills the field from the parsed option (``read`` converts both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import field, fields
from typing import Any

from oslo_config import cfg

MIB = 1024 * 1024

_OPTION = "option"
_READ = "read"
_NESTED = "nested"


def _as_is(value: Any) -> Any:
    return value


def setting(opt: cfg.Opt, read: Callable[[Any], Any] = _as_is) -> Any:
    """A dataclass field for ``opt``: default ``read(opt.default)``, value ``read(conf[opt])``."""
    return field(default=read(opt.default), metadata={_OPTION: opt.dest, _READ: read})


def nested(cls: type[Any]) -> Any:
    """A dataclass field holding a dataclass of settings of its own (e.g. ``RayOptions``)."""
    return field(default_factory=cls, metadata={_NESTED: cls})


def read_settings(cls: type[Any], conf: cfg.ConfigOpts) -> dict[str, Any]:
    """The values of ``cls``'s setting fields in ``conf``, by field name."""
    values: dict[str, Any] = {}
    for item in fields(cls):
        if _OPTION in item.metadata:
            values[item.name] = item.metadata[_READ](conf[item.metadata[_OPTION]])
        elif _NESTED in item.metadata:
            inner = item.metadata[_NESTED]
            values[item.name] = inner(**read_settings(inner, conf))
    return values
