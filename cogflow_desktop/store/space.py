"""Free space on the disk that holds the data folder, and when to warn about it.

Recording pauses when that disk is full (the server answers 507 and the page keeps its rows),
so the app warns before: at start, when a run starts and while it runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
# Below this the app warns. A trial of an ordinary task takes a few kilobytes on disk
# (ciphertext, index, and its copy in the write-ahead log); continuous recordings (eye
# tracking, mouse tracking, long RDM streams) take far more.
LOW_SPACE_BYTES = 200 * MB
# What one ordinary run of a few hundred trials needs, as told to the researcher.
TYPICAL_RUN_BYTES = 5 * MB


@dataclass(frozen=True)
class SpaceReport:
    folder: Path
    free_bytes: int

    @property
    def low(self) -> bool:
        return self.free_bytes < LOW_SPACE_BYTES

    @property
    def warning(self) -> str:
        """One sentence for the researcher (empty when there is enough space)."""
        if not self.low:
            return ""
        return (
            f"Only {self.free_bytes / MB:.0f} MB is free on the disk that holds the data folder "
            f"{self.folder}: a typical run needs about {TYPICAL_RUN_BYTES // MB} MB (more with "
            "eye or mouse tracking), and recording pauses, keeping the trials in the page, "
            "when the disk is full."
        )


def space_report(folder: Path) -> SpaceReport:
    """Free bytes on the disk of `folder` (or of its nearest existing parent)."""
    probe = Path(folder)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return SpaceReport(Path(folder), shutil.disk_usage(probe).free)
