"""A plugin with no attributes at all: metadata from its distribution, no predict."""
