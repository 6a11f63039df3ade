"""Review finding 11 (files): the data folder is 0700 and the database, its WAL, backups, logs,
exports and the unattended-sync key file are 0600, whatever the process umask was; an older
installation's looser modes are repaired when it is opened. (Windows gets owner-only ACLs in
security/files.py's guarded branch, not exercised here.)"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.engine import backup_database

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes; Windows uses ACLs")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def loose_umask() -> Iterator[None]:
    """A typical desktop umask (022): files would be world-readable by default."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _record(ctx: Context) -> None:
    users.create_user(ctx, "alice", "alice's long passphrase")
    studies.publish(
        ctx, studies.PublishRequest("s", "s", "v1", {"timeline": []}, None, None),
        actor="t", client="t",
    )  # fmt: skip
    run = runs.start_run(ctx, "s", "P-1", actor="t", client="t")["run_session_id"]
    runs.checkpoint(
        ctx, runs.CheckpointRequest(run, "t", 0, 1, {}, [{"trial_index": 0}]), actor="t", client="t"
    )


def test_new_data_folder_is_owner_only(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "data"
    ctx = open_context(Settings.from_env(data))
    try:
        _record(ctx)
        assert _mode(data) == 0o700
        for name in ("cogflow.sqlite3", "cogflow.sqlite3-wal", "cogflow.sqlite3-shm"):
            assert _mode(data / name) == 0o600, name
        backup = data / "backups" / "copy.sqlite3"
        backup_database(ctx.settings.db_path, backup)
        assert _mode(backup.parent) == 0o700 and _mode(backup) == 0o600
    finally:
        ctx.close()


def test_an_older_installation_is_tightened_on_open(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "data"
    ctx = open_context(Settings.from_env(data))
    ctx.close()
    (data / "logs").mkdir()
    (data / "logs" / "cogflow-desktop.log").write_text("log line\n")
    (data / "backups").mkdir(exist_ok=True)
    (data / "backups" / "old.sqlite3").write_bytes(b"x")
    for path in (data, data / "logs", data / "backups"):
        path.chmod(0o755)
    for path in (data / "cogflow.sqlite3", data / "logs" / "cogflow-desktop.log"):
        path.chmod(0o644)
    (data / "backups" / "old.sqlite3").chmod(0o644)
    ctx = open_context(Settings.from_env(data))
    ctx.close()
    assert _mode(data) == 0o700
    assert _mode(data / "cogflow.sqlite3") == 0o600
    assert _mode(data / "logs") == 0o700 and _mode(data / "logs" / "cogflow-desktop.log") == 0o600
    assert _mode(data / "backups") == 0o700 and _mode(data / "backups" / "old.sqlite3") == 0o600


def test_export_files_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    from cogflow_desktop.export import ExportOptions, export_study

    ctx = open_context(Settings.from_env(tmp_path / "data"))
    try:
        _record(ctx)
        key = users.unlock_with_password(ctx, "alice", "alice's long passphrase")
        out = tmp_path / "out.csv"
        export_study(ctx, key, ExportOptions("s", "csv", out), actor="alice")
        assert _mode(out) == 0o600
    finally:
        ctx.close()


def test_unattended_sync_key_file_is_never_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created owner-only, not created readable and chmod-ed afterwards: with chmod doing
    nothing, the file keeps the mode it was created with."""
    from cogflow_desktop.sync import keystore

    old = os.umask(0)
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    try:
        target = tmp_path / "unattended-sync.key"
        keystore._write_private(target, b"k" * 32)
        assert _mode(target) == 0o600
    finally:
        os.umask(old)
