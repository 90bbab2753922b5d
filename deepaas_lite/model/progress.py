"""``report_progress``: a plugin's ``train`` tells how far it has got."""

from __future__ import annotations

from collections.abc import Callable

_reporter: Callable[[float, str], None] | None = None


def set_reporter(reporter: Callable[[float, str], None] | None) -> None:
    """Install the function that records progress (done where a job runs)."""
    global _reporter
    _reporter = reporter


def report_progress(fraction: float, message: str = "") -> None:
    """Put ``{"fraction": ..., "message": ...}`` on the running training's record.

    Outside a training (e.g. a plugin's own tests) it does nothing.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    if _reporter is not None:
        _reporter(float(fraction), str(message))
