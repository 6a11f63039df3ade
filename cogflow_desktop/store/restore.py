"""Putting the newest good backup in place of a damaged database, keeping the damaged files.

The damaged database and its -wal, -shm and -journal companions are moved (never deleted,
never opened) into an owner-only folder `damaged/<when>/` of the data folder; the backup is
copied in under a temporary name, synced and renamed over `cogflow.sqlite3` (never a
half-written database), and the integrity check runs again on the result. A failure at any
step leaves the damaged files in that folder and says so in one sentence.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cogflow_desktop.security import files
from cogflow_desktop.store.backups import quick_check

DAMAGED_FOLDER = "damaged"
COMPANIONS = ("", "-wal", "-shm", "-journal")


class RestoreFailed(Exception):
    """The backup could not be put in place; the message is one sentence for a researcher."""


@dataclass(frozen=True)
class Restored:
    backup: Path
    db_path: Path
    aside: Path  # the folder that now holds the damaged files
    moved: list[Path]  # the damaged files, at their new place


def backup_made(backup: Path) -> str:
    """When a backup was made, as a researcher reads it (UTC)."""
    return datetime.fromtimestamp(backup.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _aside_folder(data_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = data_dir / DAMAGED_FOLDER / f"cogflow-damaged-{stamp}"
    folder, n = base, 1
    while folder.exists():  # two restores within a second
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    files.private_dir(folder.parent)
    return files.private_dir(folder)


def restore_backup(db_path: Path, backup: Path) -> Restored:
    """Move the damaged database aside and put `backup` in its place. The caller holds the
    data folder's instance lock (no process may have the database open)."""
    problem = quick_check(backup)
    if problem is not None:
        raise RestoreFailed(
            f"The backup {backup} failed its own integrity check ({problem}), so it was not "
            "restored; nothing was changed."
        )
    aside = _aside_folder(db_path.parent)
    moved: list[Path] = []
    try:
        for suffix in COMPANIONS:
            source = db_path.with_name(db_path.name + suffix)
            if source.exists():
                target = aside / source.name
                os.replace(source, target)  # same filesystem: a rename, the bytes untouched
                moved.append(target)
    except OSError as exc:
        raise RestoreFailed(
            f"The damaged database could not be moved aside ({exc.strerror or exc}); what was "
            f"moved is in {aside}, and no backup was copied in."
        ) from exc
    partial = db_path.with_name(db_path.name + ".restoring")
    try:
        partial.unlink(missing_ok=True)
        files.create_private_file(partial)
        with backup.open("rb") as src, partial.open("r+b") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(partial, db_path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise RestoreFailed(
            f"The backup {backup} could not be copied in ({exc.strerror or exc}); the damaged "
            f"files are kept in {aside}."
        ) from exc
    problem = quick_check(db_path)
    if problem is not None:
        raise RestoreFailed(
            f"The restored database failed its integrity check ({problem}); the damaged "
            f"files are kept in {aside}."
        )
    return Restored(backup, db_path, aside, moved)
