"""What went wrong underneath a write, in words a researcher can act on.

SQLite and the operating system report a full disk, a database held by another program and a
damaged file as generic errors; this module recognises them (it is the only place that knows
SQLite's result codes) so the API can answer each with its own status and one plain sentence,
and nothing is ever answered as an unexplained 500.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass

# How long a write waits for a database another program holds (a backup, sync or antivirus
# tool) before it gives up and says so. Documented in the README ("When things go wrong").
BUSY_TIMEOUT_SECONDS = 10

# SQLite primary result codes (https://sqlite.org/rescode.html); extended codes keep these in
# their low byte.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


@dataclass(frozen=True)
class StorageFault:
    kind: str  # "full" | "busy" | "damaged"
    status: int
    retry_after: int  # seconds
    message: str


DISK_FULL = StorageFault(
    "full",
    507,
    10,
    "The disk that holds the data folder is full, so this was not stored; "
    "it will be stored when sent again once some space is free.",
)
DATABASE_BUSY = StorageFault(
    "busy",
    503,
    5,
    f"Another program (for example a backup, sync or antivirus tool) kept the database locked "
    f"for more than {BUSY_TIMEOUT_SECONDS} seconds, so this was not stored; send it again shortly.",
)
DATABASE_DAMAGED = StorageFault(
    "damaged",
    503,
    60,
    "The database file is damaged, so this was not stored; a researcher must restore the "
    "newest backup (the app names it at start).",
)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what SQLAlchemy wrapped (`.orig`) and its causes."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return seen


def _sqlite_fault(exc: sqlite3.Error) -> StorageFault | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        primary = int(code) & 0xFF
        if primary == _SQLITE_FULL:
            return DISK_FULL
        if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return DATABASE_BUSY
        if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return DATABASE_DAMAGED
        return None
    text = str(exc).lower()  # Python before 3.11 has no error code: the fixed messages
    if "disk is full" in text:
        return DISK_FULL
    if "database is locked" in text or "database table is locked" in text:
        return DATABASE_BUSY
    if "malformed" in text or "not a database" in text:
        return DATABASE_DAMAGED
    return None


def storage_fault(exc: BaseException) -> StorageFault | None:
    """The storage fault behind an exception, or None when it is something else."""
    for item in _chain(exc):
        if isinstance(item, sqlite3.Error):
            fault = _sqlite_fault(item)
            if fault is not None:
                return fault
        elif isinstance(item, OSError) and item.errno in _FULL_ERRNOS:
            return DISK_FULL
    return None
