"""What DEEPaaS-era plugins import from ``deepaas``, provided by deepaas-lite.

``aliases.install()`` makes ``import deepaas.model.v2.wrapper`` (and the packages above
it) resolve to the modules under ``deepaas_lite.compat.deepaas``, whether or not the real
DEEPaaS distribution is installed. See ``docs/migration.md``.
"""
