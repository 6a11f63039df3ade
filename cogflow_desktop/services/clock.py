"""Elapsed time that a changed system clock cannot move.

Wall-clock time jumps when NTP corrects it or someone sets it by hand; a window such as MFA
freshness must not grow because the clock was set back. This clock only moves forward. It also
counts time asleep where the platform allows (Linux CLOCK_BOOTTIME), so a laptop that slept
through the window does not come back fresh; elsewhere time.monotonic() is used, and the
callers check the wall clock as well, which does move on over sleep.
"""

from __future__ import annotations

import time


def elapsed() -> float:
    """Seconds on a clock that never goes back (its origin is arbitrary)."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        return time.clock_gettime(boottime)
    return time.monotonic()
