"""What an export is asked for, how it reports progress, and what it hands back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("csv", "json", "bids", "psychds", "zip")
# Formats written as a new folder (the others are one file).
FOLDER_FORMATS = ("bids", "psychds")
# Formats that can add Parquet files beside their CSV tables.
PARQUET_FORMATS = ("csv", "zip")


class ExportCancelled(Exception):
    """The cancel check said stop; nothing was left under the target name."""


@dataclass(frozen=True)
class ExportOptions:
    study_slug: str
    format: str
    out: Path
    # Empty: every run of the study.
    run_ids: tuple[str, ...] = ()
    # Raw participant ids are sealed like results and leave only on this explicit request.
    include_participant_ids: bool = False
    # Also write each CSV table as Parquet (typed columns, codebook metadata); needs pyarrow.
    parquet: bool = False


@dataclass(frozen=True)
class ExportProgress:
    runs_done: int
    runs_total: int
    trials_done: int
    trials_total: int


@dataclass(frozen=True)
class WrittenFile:
    path: str  # relative to the export target (the file name itself for one-file formats)
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ExportResult:
    format: str
    out: Path
    runs: int
    trials: int
    # The files the target holds (for bids, the manifest; for zip, the archive itself).
    files: list[WrittenFile] = field(default_factory=list)


ProgressFn = Callable[[ExportProgress], None]
CancelFn = Callable[[], bool]
