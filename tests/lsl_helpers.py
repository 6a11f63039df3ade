"""Shared by the lab hardware tests: a loopback-only liblsl configuration, an LSL inlet that
collects a marker stream, and a study with markers and triggers turned on.

liblsl reads its configuration once, from the file named by LSLAPICFG, when it is first used in
the process. Importing this module (every lab hardware test does) points it at a file that keeps
LSL on this machine: no IPv6, resolve scope `machine`, 127.0.0.1 as the only known peer, and a
session id of this test process, so streams of other test runs on the same machine (other
worktrees, CI) are invisible and multicast is not needed.
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_CFG = Path(tempfile.gettempdir()) / f"cogflow-lsl-tests-{os.getpid()}.cfg"
_CFG.write_text(
    "[ports]\nIPv6 = disable\n"
    "[multicast]\nResolveScope = machine\n"
    "[lab]\nKnownPeers = {127.0.0.1}\n"
    f"SessionID = cogflow-tests-{os.getpid()}\n"
    "[log]\nlevel = -2\n",
    encoding="utf-8",
)
os.environ["LSLAPICFG"] = str(_CFG)
atexit.register(_CFG.unlink, missing_ok=True)

import pylsl  # noqa: E402  (after LSLAPICFG, deliberately)

LSL_STUDY_CONFIG: dict[str, Any] = {
    "experiment_type": "trial-based",
    "task_type": "flanker",
    "lsl": {"enabled": True},
    "triggers": {
        "enabled": True,
        "codes": {"flanker-trial": 10, "drt-stimulus": 20, "response": 99},
    },
    "timeline": [],
}


@dataclass
class MarkerInlet:
    """An LSL inlet on a stream, found by its source id, that collects every sample."""

    inlet: Any
    samples: list[tuple[dict[str, Any], float]] = field(default_factory=list)

    @classmethod
    def open(cls, source_id: str, timeout: float = 30.0) -> MarkerInlet:
        found = pylsl.resolve_byprop("source_id", source_id, timeout=timeout)
        assert found, f"no LSL stream with source id {source_id} on loopback"
        inlet = pylsl.StreamInlet(found[0], max_buflen=360, recover=False)
        inlet.open_stream(timeout=timeout)
        return cls(inlet)

    def info(self) -> Any:
        return self.inlet.info(timeout=10)

    def pull(self, until: int, timeout: float = 60.0) -> list[tuple[dict[str, Any], float]]:
        """Collect until `until` samples arrived in all (or the time is up)."""
        deadline = time.monotonic() + timeout
        while len(self.samples) < until and time.monotonic() < deadline:
            sample, ts = self.inlet.pull_sample(timeout=0.5)
            if sample is not None:
                self.samples.append((json.loads(sample[0]), ts))
        return self.samples

    def drain(self, quiet: float = 1.0) -> list[tuple[dict[str, Any], float]]:
        """Collect until nothing arrives for `quiet` seconds."""
        while True:
            sample, ts = self.inlet.pull_sample(timeout=quiet)
            if sample is None:
                return self.samples
            self.samples.append((json.loads(sample[0]), ts))

    def close(self) -> None:
        self.inlet.close_stream()
