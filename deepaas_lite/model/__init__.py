"""Plugins: discovery, argument schemas and the facade the rest of the code uses."""
