"""Page clock -> LSL clock: the arithmetic of a round trip and which estimate a run keeps."""

from __future__ import annotations

import math

import pytest

from cogflow_desktop.hardware.clock_sync import (
    PAGE_CLOCK_RESOLUTION_S,
    ClockSync,
    RoundTrip,
)


def trip(sent_ms: float, rtt_ms: float, true_offset_s: float, host_at: float = 0.5) -> RoundTrip:
    """A round trip whose host read its clock `host_at` of the way through (0 = at send)."""
    host_page_ms = sent_ms + rtt_ms * host_at
    return RoundTrip(sent_ms, sent_ms + rtt_ms, host_page_ms / 1000 + true_offset_s)


def test_offset_is_within_half_the_round_trip_wherever_the_host_read_its_clock() -> None:
    for host_at in (0.0, 0.1, 0.5, 0.9, 1.0):
        rt = trip(1000.0, 4.0, 5000.25, host_at)
        assert abs(rt.offset_s - 5000.25) <= rt.uncertainty_s + 1e-12
        assert rt.uncertainty_s == pytest.approx(0.002 + PAGE_CLOCK_RESOLUTION_S)


def test_a_burst_keeps_its_shortest_round_trip() -> None:
    sync = ClockSync()
    est = sync.add_burst([trip(0, 6, 10.0, 0.9), trip(10, 0.8, 10.0, 0.2), trip(20, 3, 10.0)])
    assert est.rtt_ms == pytest.approx(0.8)
    assert est.probes == 3
    assert est.to_lsl(1500.0) == pytest.approx(11.5, abs=est.uncertainty_s)


def test_later_bursts_keep_one_mapping_unless_drift_or_much_better() -> None:
    sync = ClockSync()
    first = sync.add_burst([trip(0, 2.0, 10.0, 0.3)])
    # Agrees within the uncertainties and is not twice as precise: the run keeps its mapping.
    same = sync.add_burst([trip(10_000, 1.5, 10.0, 0.7)])
    assert same is first
    # Twice as precise: taken.
    better = sync.add_burst([trip(20_000, 0.6, 10.0)])
    assert better is not first and better.rtt_ms == pytest.approx(0.6)
    # The clocks moved apart by 5 ms, beyond both bounds: followed.
    drifted = sync.add_burst([trip(30_000, 1.0, 10.005)])
    assert drifted.offset_s == pytest.approx(10.005, abs=drifted.uncertainty_s)
    record = sync.record()
    assert [s["adopted"] for s in record["syncs"]] == [True, False, True, True]
    assert record["offset_s"] == drifted.offset_s
    assert record["drift_s"] == pytest.approx(0.005, abs=0.002)


def test_unusable_round_trips_are_refused() -> None:
    sync = ClockSync()
    backwards = RoundTrip(10.0, 9.0, 1.0)
    nan = RoundTrip(math.nan, 1.0, 1.0)
    assert not backwards.valid and not nan.valid
    with pytest.raises(ValueError, match="no usable round trip"):
        sync.add_burst([backwards, nan])
    assert sync.current is None and sync.record()["offset_s"] is None
