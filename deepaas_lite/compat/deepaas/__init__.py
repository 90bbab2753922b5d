"""deepaas-lite's stand-in for the ``deepaas`` package (plugin-facing names only).

Plugins see this package as ``deepaas`` once ``deepaas_lite.compat.aliases.install()``
has run; it is never installed as a top-level ``deepaas`` package.
"""

from __future__ import annotations

API_VERSION = "2"
"""The DEEPaaS API whose plugin contract this stands in for."""
