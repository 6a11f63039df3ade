"""Mapping the page's clock (`performance.now()`, ms) to the LSL clock (`local_clock()`, s).

The page measures it NTP-style: it notes `performance.now()` before asking the host for
`local_clock()` and again when the answer arrives. Whenever the host read its clock, it was
between the two page times, so

    offset = lsl_s - midpoint(page_sent, page_received)      (LSL seconds minus page seconds)

is off by at most half the round trip (plus the page clock's own resolution). A burst of a few
round trips keeps the shortest one. The page then stamps every event with
`page_ms / 1000 + offset`.

Both clocks are the operating system's monotonic clock on every platform (Chromium's
`performance.now()` and liblsl's `local_clock()`), so the offset should not move during a run.
A later burst therefore replaces the estimate in use only when it disagrees with it beyond both
uncertainties (the clocks really drifted apart) or is at least twice as precise; otherwise the
run keeps one mapping, so differences between its markers are exactly differences on the page
clock. Every burst is kept for the run's record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Chromium coarsens performance.now() to 100 µs on pages that are not cross-origin isolated.
PAGE_CLOCK_RESOLUTION_S = 0.0001


@dataclass(frozen=True)
class RoundTrip:
    page_sent_ms: float
    page_received_ms: float
    lsl_s: float

    @property
    def valid(self) -> bool:
        values = (self.page_sent_ms, self.page_received_ms, self.lsl_s)
        return all(math.isfinite(v) for v in values) and self.page_received_ms >= self.page_sent_ms

    @property
    def rtt_ms(self) -> float:
        return self.page_received_ms - self.page_sent_ms

    @property
    def page_mid_ms(self) -> float:
        return (self.page_sent_ms + self.page_received_ms) / 2

    @property
    def offset_s(self) -> float:
        return self.lsl_s - self.page_mid_ms / 1000

    @property
    def uncertainty_s(self) -> float:
        return self.rtt_ms / 2000 + PAGE_CLOCK_RESOLUTION_S


@dataclass(frozen=True)
class ClockEstimate:
    """One burst's best round trip: the offset, its bound, and when (page clock) it was taken."""

    offset_s: float
    uncertainty_s: float
    rtt_ms: float
    page_ms: float
    probes: int

    @classmethod
    def from_round_trip(cls, best: RoundTrip, probes: int) -> ClockEstimate:
        return cls(best.offset_s, best.uncertainty_s, best.rtt_ms, best.page_mid_ms, probes)

    def to_lsl(self, page_ms: float) -> float:
        return page_ms / 1000 + self.offset_s

    def agrees_with(self, other: ClockEstimate) -> bool:
        return abs(self.offset_s - other.offset_s) <= self.uncertainty_s + other.uncertainty_s

    def as_dict(self) -> dict[str, Any]:
        return {
            "offset_s": self.offset_s,
            "uncertainty_s": self.uncertainty_s,
            "rtt_ms": round(self.rtt_ms, 4),
            "page_ms": round(self.page_ms, 4),
            "probes": self.probes,
        }


@dataclass
class ClockSync:
    """The bursts of one run and the estimate in use."""

    bursts: list[tuple[ClockEstimate, bool]] = field(default_factory=list)
    current: ClockEstimate | None = None

    def add_burst(self, samples: list[RoundTrip]) -> ClockEstimate:
        """Take a burst's shortest round trip; returns the estimate in use afterwards."""
        good = [s for s in samples if s.valid]
        if not good:
            raise ValueError("The clock measurement had no usable round trip.")
        burst = ClockEstimate.from_round_trip(min(good, key=lambda s: s.rtt_ms), len(samples))
        cur = self.current
        adopt = (
            cur is None
            or not burst.agrees_with(cur)  # the clocks moved apart: follow them
            or burst.uncertainty_s * 2 <= cur.uncertainty_s  # much more precise
        )
        self.bursts.append((burst, adopt))
        if adopt:
            self.current = burst
        assert self.current is not None
        return self.current

    def record(self) -> dict[str, Any]:
        """What the run stores: the estimate in use and every burst (drift shows across them)."""
        cur = self.current
        return {
            "offset_s": cur.offset_s if cur else None,
            "uncertainty_s": cur.uncertainty_s if cur else None,
            "syncs": [{**b.as_dict(), "adopted": adopted} for b, adopted in self.bursts],
            "drift_s": self.drift_s(),
        }

    def drift_s(self) -> float | None:
        """Last burst's offset minus the first's (None with fewer than two)."""
        if len(self.bursts) < 2:
            return None
        return self.bursts[-1][0].offset_s - self.bursts[0][0].offset_s
