"""Owner-only files and folders: the data folder is 0700 and everything in it 0600 on POSIX, and
carries an owner-only ACL on Windows (the one guarded, platform-specific place).

The database holds only ciphertext for results, but its metadata (study names, run times, the
audit log), logs, backups and exports are still nobody else's business on a shared lab PC.
"""

from __future__ import annotations

import getpass
import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
_WINDOWS = sys.platform == "win32"


def private_umask() -> None:
    """From now on this process creates files 0600 and folders 0700 (SQLite's -wal and -shm
    files, log rotations, backups, exports, the web profile). POSIX only: on Windows the data
    folder's inherited ACL does the same job."""
    if not _WINDOWS:
        os.umask(0o077)


def _windows_owner_only(path: Path, folder: bool) -> None:
    """Replace inherited permissions with full control for the current user alone; folders
    pass it on to everything created inside them."""
    grant = f"{getpass.getuser()}:{'(OI)(CI)F' if folder else 'F'}"
    try:
        subprocess.run(
            ["icacls", str(path), "/inheritance:r", "/grant:r", grant],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:  # pragma: no cover - Windows only
        log.warning("Could not restrict the permissions of %s: %s", path, exc)


def private_dir(path: Path) -> Path:
    """Create (if needed) a folder only its owner can enter."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if _WINDOWS:  # pragma: no cover - Windows only
        _windows_owner_only(path, folder=True)
    else:
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> None:
    """Make an existing file readable and writable by its owner only."""
    if _WINDOWS:  # pragma: no cover - Windows only
        _windows_owner_only(path, folder=False)
    else:
        os.chmod(path, FILE_MODE)


def create_private_file(path: Path) -> None:
    """Create an empty file that was never readable by anyone else (not even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(fd)
    private_file(path)


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file atomically: its temporary is created owner-only (never chmod-ed
    after the fact), synced, then renamed over the target."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if _WINDOWS:  # pragma: no cover - Windows only
            _windows_owner_only(tmp, folder=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def tighten_tree(folder: Path, *, recursive: bool = False) -> None:
    """Make a folder owner-only and every file directly in it (or below it) 0600: repairs an
    installation made before this rule, or files created before the umask was set."""
    if not folder.is_dir():
        return
    private_dir(folder)
    if _WINDOWS:  # pragma: no cover - the folder's inherited ACL covers its content
        return
    for child in folder.rglob("*") if recursive else folder.iterdir():
        if child.is_symlink():
            continue
        if child.is_dir():
            os.chmod(child, DIR_MODE)
        elif child.is_file():
            os.chmod(child, FILE_MODE)
