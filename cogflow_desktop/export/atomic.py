"""Write a file or a folder so that the target name only ever holds a complete export.

Everything is written under a hidden temporary name in the target's own folder (so the final
`os.replace` is a rename on one file system, and decrypted data never lands in a shared temp
folder), flushed to disk, then renamed. On any failure the temporary is removed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def temp_name(target: Path, suffix: str = "") -> Path:
    """A fresh hidden name beside `target` (not created)."""
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent
    )
    os.close(fd)
    os.unlink(name)
    return Path(name)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable. Windows cannot open a folder for syncing (nor needs to)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class HashingWriter:
    """A binary file that keeps the SHA-256 and size of what went through it."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        return self._fh.write(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@contextmanager
def atomic_file(target: Path) -> Iterator[HashingWriter]:
    """Yield a writer; on a clean exit the bytes become `target` (replacing any old file)."""
    tmp = temp_name(target)
    try:
        with open(tmp, "xb") as fh:
            writer = HashingWriter(fh)
            yield writer
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def write_synced(path: Path, data: bytes) -> tuple[int, str]:
    """Write a small file durably; returns its size and SHA-256."""
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return len(data), hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Like atomic_file, for writers that need a real (seekable) file they open themselves."""
    tmp = temp_name(target)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
