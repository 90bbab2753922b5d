"""Make ``deepaas`` and its plugin-facing modules resolve to deepaas-lite's stand-ins.

DEEPaaS-era plugins do ``from deepaas.model.v2.wrapper import UploadedFile`` and
``from deepaas.model.v2 import base``. ``install()`` puts deepaas-lite's modules into
``sys.modules`` under those names before any plugin is imported, so the plugin checks
``isinstance`` against the class the server really hands it. When the real DEEPaaS
distribution is installed too, these names still resolve to ours (they replace any
already imported); its other modules (``deepaas.api``, ``deepaas.config``...) are not
available to plugins.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

PREFIX = "deepaas_lite.compat."

NAMES = (
    "deepaas",
    "deepaas.model",
    "deepaas.model.v2",
    "deepaas.model.v2.base",
    "deepaas.model.v2.wrapper",
)
"""The modules plugins may import, parents first."""


def install() -> None:
    """Alias every name in ``NAMES`` to deepaas-lite's module (idempotent)."""
    for name in NAMES:
        module = importlib.import_module(PREFIX + name)
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def installed() -> bool:
    """Whether ``deepaas`` currently resolves to deepaas-lite's stand-in."""
    module: ModuleType | None = sys.modules.get("deepaas")
    return module is not None and module.__name__ == PREFIX + "deepaas"
