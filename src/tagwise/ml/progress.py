"""Progress callbacks: ``progress(fraction)`` with fraction in [0, 1].

The job runner may raise inside the callback to cancel a fit, so callers never catch
exceptions around it.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float], None]


def report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(min(1.0, max(0.0, float(fraction))))


def scaled(progress: Progress | None, start: float, end: float) -> Progress | None:
    """A callback that maps its own 0..1 onto ``start..end`` of ``progress``."""
    if progress is None:
        return None
    return lambda fraction: report(progress, start + (end - start) * fraction)
