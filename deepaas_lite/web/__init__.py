"""The HTTP layer: it only translates HTTP and delegates to the core."""
