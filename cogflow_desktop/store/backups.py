"""A damaged database is found at start and never written to; regular backups stand ready.

- `check_database` runs SQLite's `PRAGMA quick_check` (structure of every page, without the
  slower index cross-checks of integrity_check) before anything writes, and raises
  `DatabaseDamaged` naming the newest backup that passes the same check.
- `make_backup` copies the live database with SQLite's online backup API (a consistent
  snapshot, WAL content included) to a temporary name, then renames it into place, so a backup
  is never half-written. Results, participant ids and keys are ciphertext inside the database,
  so a backup is exactly as protected as the database (and made owner-only like it).
- `BackupScheduler` makes one every `BACKUP_EVERY` while a recording process runs, keeping the
  newest `KEEP_REGULAR` (the backups made before migrations are kept apart and never rotated).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cogflow_desktop.security import files

log = logging.getLogger(__name__)

BACKUP_EVERY = timedelta(hours=24)
KEEP_REGULAR = 7
REGULAR_PREFIX = "cogflow-regular-"
# How often the scheduler wakes to see whether a backup is due.
_WAKE_SECONDS = 3600.0


class DatabaseDamaged(Exception):
    """The database failed its integrity check; the message is one sentence for a researcher."""

    def __init__(self, message: str, problem: str, backup: Path | None) -> None:
        super().__init__(message)
        self.problem = problem
        self.backup = backup


def quick_check(db_path: Path) -> str | None:
    """None when the file is a sound SQLite database, else what is wrong (first finding).

    Only reads: with no -wal beside it (no committed data outside the file, no writer) the
    file is opened `immutable`, so SQLite creates no -wal or -shm next to a damaged database
    or a backup; with a -wal, read-only as usual, as its content must be checked too."""
    wal = db_path.with_name(db_path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(f"{db_path.as_uri()}?{mode}", uri=True, timeout=10)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if rows == ["ok"] else "; ".join(rows)


def list_backups(backup_dir: Path) -> list[Path]:
    """Every backup, newest first."""
    if not backup_dir.is_dir():
        return []
    found = [p for p in backup_dir.glob("cogflow-*.sqlite3") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def newest_good_backup(backup_dir: Path) -> Path | None:
    for backup in list_backups(backup_dir):
        if quick_check(backup) is None:
            return backup
    return None


def check_database(db_path: Path, backup_dir: Path) -> None:
    """Raise DatabaseDamaged when the database is damaged; nothing is written either way.

    An empty database file is a new installation, unless backups exist: then the file was
    emptied (a half-written copy, a sync tool), and starting afresh would hide every run.
    """
    if not db_path.exists():
        return
    if db_path.stat().st_size == 0:
        problem = "the file is empty" if list_backups(backup_dir) else None
    else:
        problem = quick_check(db_path)
    if problem is None:
        return
    backup = newest_good_backup(backup_dir)
    if backup is None:
        advice = "there is no good backup in the backups folder to restore"
    else:
        made = datetime.fromtimestamp(backup.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
        advice = (
            f"the newest good backup is {backup} (made {made}): quit, move the damaged file and "
            f"its -wal and -shm companions aside, and copy that backup to {db_path.name}"
        )
    raise DatabaseDamaged(
        f"The database {db_path} is damaged ({problem}), so CogFlow Desktop will not write to "
        f"it; {advice}.",
        problem,
        backup,
    )


def backup_database(db_path: Path, target: Path) -> None:
    """A consistent copy of a live database, WAL content included, owner-only, written under
    a temporary name and renamed into place (a crash never leaves a half-written backup)."""
    files.private_dir(target.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    files.create_private_file(partial)
    src = sqlite3.connect(db_path, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


def make_backup(db_path: Path, backup_dir: Path, keep: int = KEEP_REGULAR) -> Path:
    """A regular backup now; the oldest regular ones beyond `keep` are deleted."""
    target = backup_dir / f"{REGULAR_PREFIX}{_stamp(datetime.now(UTC))}.sqlite3"
    backup_database(db_path, target)
    regular = sorted(backup_dir.glob(f"{REGULAR_PREFIX}*.sqlite3"), reverse=True)
    for old in regular[keep:]:
        old.unlink(missing_ok=True)
    return target


def backup_due(backup_dir: Path, every: timedelta = BACKUP_EVERY) -> bool:
    regular = sorted(backup_dir.glob(f"{REGULAR_PREFIX}*.sqlite3"), reverse=True)
    if not regular:
        return True
    newest = datetime.fromtimestamp(regular[0].stat().st_mtime, UTC)
    return datetime.now(UTC) - newest >= every


class BackupScheduler:
    """A daemon thread that backs the database up when one is due (at start, then daily)."""

    def __init__(self, db_path: Path, backup_dir: Path, every: timedelta = BACKUP_EVERY) -> None:
        self.db_path = db_path
        self.backup_dir = backup_dir
        self.every = every
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cogflow-backups", daemon=True)

    def start(self) -> BackupScheduler:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._idle.clear()
            self.run_if_due()
            self._idle.set()
            self._stop.wait(_WAKE_SECONDS)

    def run_if_due(self) -> Path | None:
        try:
            if backup_due(self.backup_dir, self.every):
                made = make_backup(self.db_path, self.backup_dir)
                self.last_error = None
                log.debug("Database backed up to %s", made)
                return made
        except (OSError, sqlite3.Error) as exc:  # a full disk, say: try again at the next wake
            self.last_error = str(exc)
            log.warning("The regular database backup failed: %s", exc)
        return None

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until the current round (if any) has finished (tests, orderly shutdown)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
