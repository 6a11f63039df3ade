"""The integrity check at start only reads: beside a damaged database it creates no -wal or
-shm file, so the folder looks exactly as the damage left it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from cogflow_desktop.services import studies, users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store import backups
from cogflow_desktop.store.backups import DatabaseDamaged


def _folder(data_dir: Path) -> dict[str, str]:
    return {
        str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in data_dir.rglob("*")
        if p.is_file()
    }


def test_checking_a_damaged_database_creates_no_companion_files(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path / "data")
    ctx = open_context(settings)
    try:
        users.create_user(ctx, "alice", "alice's long passphrase")
        studies.publish(
            ctx, studies.PublishRequest("s", "s", "v1", {"timeline": []}, None, None),
            actor="t", client="t",
        )  # fmt: skip
    finally:
        ctx.close()
    db = settings.db_path
    assert not db.with_name(db.name + "-wal").exists()
    size = db.stat().st_size
    with db.open("r+b") as f:  # a bad sector in the middle of the file
        f.seek(size // 2 - (size // 2) % 4096)
        f.write(os.urandom(4096))
    before = _folder(settings.data_dir)

    assert backups.quick_check(db) is not None
    with pytest.raises(DatabaseDamaged):
        open_context(settings)
    assert _folder(settings.data_dir) == before
