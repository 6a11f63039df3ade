"""Where a live kiosk run stands, held in this process's memory only (issue #17, "the page
dies"): the newest *resume snapshot* the Interpreter sent for each run (run seed, the index of
the next trial and timeline item, the runtime's adaptive state). After a renderer crash the
kiosk reloads the page with a one-time grant for the run, and the new page reads the snapshot
back to continue the same run from the next trial.

Why this keeps the security model (DESIGN.md): the snapshot holds what the live page's memory
already holds during the run, and nothing of it is ever written to disk or to a log. It is
dropped when the run ends (submit, or the kiosk ending it as failed) and is gone when the app
quits. Reading it back needs the per-launch app token (only the app's own web views send it)
and a one-time grant that only the app's kiosk issues for that run after its page died; a plain
browser, another origin or a page without the grant gets nothing. Recorded trials stay on the
write-only path: nothing here reads them.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# A snapshot is about 0.5 KB for a plain study and grows with adaptive history (QUEST updates,
# reward events: about 44 KB after 900 QUEST updates and 300 rewarded trials); these bound RAM
# to 16 MiB.
MAX_SNAPSHOT_BYTES = 1024 * 1024
# Runs held at once (one kiosk runs at a time; this bounds a misbehaving page).
MAX_RUNS = 16
# A grant is used by the page loaded right after it is issued.
GRANT_SECONDS = 300.0


@dataclass
class _Grant:
    run_id: str
    expires: float


@dataclass
class ResumeSnapshots:
    """The newest snapshot per live run, and the grants that let a recovering page read it."""

    _snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, run_id: str, snapshot: dict[str, Any]) -> None:
        with self._lock:
            self._snapshots.pop(run_id, None)
            while len(self._snapshots) >= MAX_RUNS:  # the oldest run first
                self._snapshots.pop(next(iter(self._snapshots)))
            self._snapshots[run_id] = snapshot

    def peek(self, run_id: str) -> dict[str, Any] | None:
        """For the app itself (the kiosk deciding what to offer)."""
        with self._lock:
            return self._snapshots.get(run_id)

    def grant(self, run_id: str) -> str:
        """A one-time permission for the next page to read this run's snapshot."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            for key in [k for k, g in self._grants.items() if g.expires <= now]:
                del self._grants[key]
            self._grants[token] = _Grant(run_id, now + GRANT_SECONDS)
        return token

    def take(self, run_id: str, grant: str) -> dict[str, Any] | None:
        """The snapshot, when `grant` was issued for this run and is unused and fresh; the
        grant is used up either way."""
        with self._lock:
            found = self._grants.pop(grant, None) if grant else None
            if found is None or found.run_id != run_id or found.expires <= time.monotonic():
                return None
            return self._snapshots.get(run_id)

    def drop(self, run_id: str) -> None:
        with self._lock:
            self._snapshots.pop(run_id, None)
            for key in [k for k, g in self._grants.items() if g.run_id == run_id]:
                del self._grants[key]
