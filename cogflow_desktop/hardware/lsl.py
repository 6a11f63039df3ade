"""The marker outlet: one LSL stream per study, type `Markers`, one string channel, irregular
rate, pushed with explicit timestamps on the LSL clock.

pylsl is imported on first use so that a computer whose liblsl cannot load still runs studies;
the reason is then one sentence in Settings, in `serve --lsl` and in the run's record.
"""

from __future__ import annotations

import functools
import hashlib
import time
from types import ModuleType
from typing import Any

from cogflow_desktop import __version__

STREAM_TYPE = "Markers"
MARKER_FORMAT = "cogflow-markers-1"  # one JSON object per sample (README: Lab hardware)


class LslUnavailable(Exception):
    """liblsl could not be loaded; the message says why in one sentence."""


@functools.cache
def _load() -> ModuleType | str:
    """pylsl, or why it failed (cached either way: a failed load is not retried per call)."""
    try:
        import pylsl
    except Exception as exc:  # ImportError, or RuntimeError when liblsl is missing
        return f"The LSL library (pylsl/liblsl) could not be loaded: {exc}"
    return pylsl


def _pylsl() -> ModuleType:
    loaded = _load()
    if isinstance(loaded, str):
        raise LslUnavailable(loaded)
    return loaded


def available() -> tuple[bool, str]:
    """(True, "liblsl 1.18") or (False, the reason)."""
    try:
        pylsl = _pylsl()
        version = pylsl.library_version()
    except LslUnavailable as exc:
        return False, str(exc)
    return True, f"liblsl {version // 100}.{version % 100}"


def local_clock() -> float:
    """The LSL clock in seconds; the monotonic clock when liblsl is unavailable (triggers only)."""
    try:
        return float(_pylsl().local_clock())
    except LslUnavailable:
        return time.monotonic()


def default_stream_name(study_slug: str) -> str:
    return f"CogFlow-{study_slug}"


def source_id(install_fingerprint: str, study_slug: str) -> str:
    """Stable per install and study, so a recorder picks the stream up again after a restart."""
    return f"cogflow-{install_fingerprint}-{study_slug}"


def install_fingerprint(public_key: bytes) -> str:
    """A short name for this install, from its public key (public, stable, unique)."""
    return hashlib.sha256(b"cogflow-lsl:" + public_key).hexdigest()[:16]


class MarkerOutlet:
    """One study's marker stream."""

    def __init__(self, name: str, source: str, study_slug: str) -> None:
        pylsl = _pylsl()
        self.name = name
        self.source_id = source
        info = pylsl.StreamInfo(name, STREAM_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, source)
        desc = info.desc()
        desc.append_child_value("manufacturer", "CogFlow Desktop")
        desc.append_child_value("version", __version__)
        desc.append_child_value("study_slug", study_slug)
        desc.append_child_value("marker_format", MARKER_FORMAT)
        channel = desc.append_child("channels").append_child("channel")
        channel.append_child_value("label", "CogFlowMarkers")
        channel.append_child_value("type", STREAM_TYPE)
        self._outlet = pylsl.StreamOutlet(info)

    def push(self, marker: str, timestamp: float) -> bool:
        """False once the stream is closed (LSL turned off in Settings mid-run)."""
        outlet = self._outlet
        if outlet is None:
            return False
        outlet.push_sample([marker], timestamp)
        return True

    def has_consumers(self) -> bool:
        return self._outlet is not None and bool(self._outlet.have_consumers())

    def describe(self) -> dict[str, Any]:
        return {"stream_name": self.name, "source_id": self.source_id, "stream_type": STREAM_TYPE}

    def close(self) -> None:
        # Dropping the outlet object destroys the stream (liblsl unadvertises it).
        self._outlet = None  # type: ignore[assignment]
