"""A plugin that answers which of the server's modules its process has imported: a
predict worker or a training process needs none of them."""

from __future__ import annotations

import os
import sys
from typing import Any

SERVER_MODULES = ("aiohttp", "oslo_config", "deepaas_lite.web", "deepaas_lite.cmd.start")


def _imported() -> dict[str, Any]:
    return {"pid": os.getpid(), "imported": [m for m in SERVER_MODULES if m in sys.modules]}


def predict(**kwargs: Any) -> dict[str, Any]:
    return _imported()


def train(**kwargs: Any) -> dict[str, Any]:
    return _imported()
