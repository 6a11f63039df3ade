"""Progress and outcome types the engine reports (plain data: the CLI draws a bar from them,
the Qt app can marshal them to its thread)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    runs_done: int
    runs_total: int
    bytes_done: int
    # Grows while the sync runs: a run's size is known once it has been read.
    bytes_total: int
    run_id: str | None = None
    state: str | None = None


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class RunFailure:
    run_session_id: str
    reason: str
    retryable: bool


@dataclass
class SyncReport:
    server_url: str
    runs_total: int = 0
    acknowledged: int = 0
    failed: list[RunFailure] = field(default_factory=list)
    cancelled: int = 0
    # Runs begun on another server, left for a sync to that server.
    elsewhere: list[tuple[str, str]] = field(default_factory=list)
    bytes_sent: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled
