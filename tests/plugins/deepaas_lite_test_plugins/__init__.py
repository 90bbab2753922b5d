"""Fake plugins for deepaas-lite's tests, registered as real entry points."""
