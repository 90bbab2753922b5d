"""Plugins for the deepaas-lite benchmark.

Each module is a plugin (an entry point of ``deepaas.v2.model``) written so that it
runs unchanged under DEEPaaS 2.6.0 (webargs 5, marshmallow 3, predictions in spawned
worker processes, so state lives at module level) and under deepaas-lite.
"""
