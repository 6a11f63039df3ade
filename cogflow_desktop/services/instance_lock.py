"""One recording process per data folder: the app or `serve`, never both, never two.

Both record participants' runs and, when they open the folder, flag runs a previous process
left open as interrupted; a second one would flag the first one's live runs. The lock is an
OS file lock (flock on Linux and macOS, LockFileEx on Windows, via the `filelock` package), so
it goes away with the process that held it, even after a crash or a power cut. Command-line
tools that only read or export do not take it and may run beside the app.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = "cogflow.lock"
# Who holds the lock, for the refusal sentence (a separate file: the lock file itself is
# truncated by whoever tries to take it).
OWNER_FILE = "cogflow.lock.owner"


class DataFolderInUse(Exception):
    """Another app or `serve` records into this data folder; the message says which."""


class InstanceLock:
    def __init__(self, data_dir: Path, holder: str) -> None:
        self.data_dir = data_dir
        self.holder = holder  # "the CogFlow Desktop app" or "`cogflow-desktop serve`"
        self._lock = FileLock(str(data_dir / LOCK_FILE), thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self) -> InstanceLock:
        """Take the lock now or raise DataFolderInUse; never waits."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise DataFolderInUse(
                f"The data folder {self.data_dir} is already in use by {self._owner()}; "
                "close that first (only one app or server may record runs into a folder)."
            ) from None
        with contextlib.suppress(OSError):  # only used to word the refusal
            (self.data_dir / OWNER_FILE).write_text(
                f"{self.holder} (process {os.getpid()})", encoding="utf-8"
            )
        return self

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    def _owner(self) -> str:
        try:
            text = (self.data_dir / OWNER_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        return text or "another CogFlow Desktop app or server"


def lock_data_folder(data_dir: Path, holder: str) -> InstanceLock:
    return InstanceLock(data_dir, holder).acquire()
