"""A damaged database or a half-written file: found at start by a quick integrity check, never
written to, and the message names the newest good backup; backups are made regularly (at the
first start, then daily), rotated, consistent, owner-only and hold only ciphertext."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cogflow_desktop.cli import main as cli_main
from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store import backups
from cogflow_desktop.store.backups import DatabaseDamaged
from cogflow_desktop.store.faults import DATABASE_DAMAGED, storage_fault
from cogflow_desktop.store.models import TrialRecord

SECRET = "participant-answer-7f3a"  # a plaintext value that must never be found in a file


def _record(ctx: Context, trials: int = 40) -> str:
    users.create_user(ctx, "alice", "alice's long passphrase")
    studies.publish(
        ctx, studies.PublishRequest("s", "s", "v1", {"timeline": []}, None, None),
        actor="t", client="t",
    )  # fmt: skip
    run_id = runs.start_run(ctx, "s", "P-secret", actor="t", client="t")["run_session_id"]
    rows = [{"trial_index": i, "response": SECRET, "pad": "y" * 300} for i in range(trials)]
    runs.checkpoint(
        ctx, runs.CheckpointRequest(run_id, "t", 0, trials, {"p": 1}, rows), actor="t", client="t"
    )
    return str(run_id)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage_pages(db: Path) -> None:
    """Overwrite the middle of the file (b-tree pages) with garbage, as a bad sector would."""
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.seek(size // 2 - (size // 2) % 4096)
        f.write(os.urandom(3 * 4096))


@pytest.fixture()
def recorded(tmp_path: Path) -> tuple[Settings, str]:
    settings = Settings.from_env(tmp_path / "data")
    ctx = open_context(settings)
    run_id = _record(ctx)
    ctx.close()
    return settings, run_id


def test_the_first_start_makes_a_backup_that_holds_only_ciphertext(tmp_path: Path) -> None:
    settings = Settings.from_env(tmp_path / "data")
    ctx = open_context(settings)
    try:
        assert ctx.backups is not None and ctx.backups.wait_idle()
        _record(ctx)
        made = backups.make_backup(settings.db_path, settings.backup_dir)
    finally:
        ctx.close()
    regular = sorted(settings.backup_dir.glob("cogflow-regular-*.sqlite3"))
    assert len(regular) == 2 and made in regular  # the one at start, and ours
    assert not list(settings.backup_dir.glob("*.partial"))
    assert backups.quick_check(made) is None
    with sqlite3.connect(made) as conn:
        assert conn.execute("SELECT count(*) FROM trial_records").fetchone()[0] == 40
    assert SECRET.encode() not in made.read_bytes()
    assert b"P-secret" not in made.read_bytes()
    if os.name == "posix":
        assert stat.S_IMODE(made.stat().st_mode) == 0o600


def test_regular_backups_are_rotated(recorded: tuple[Settings, str]) -> None:
    settings, _ = recorded
    for _ in range(backups.KEEP_REGULAR + 3):
        backups.make_backup(settings.db_path, settings.backup_dir)
    regular = list(settings.backup_dir.glob("cogflow-regular-*.sqlite3"))
    assert len(regular) == backups.KEEP_REGULAR
    assert not backups.backup_due(settings.backup_dir)


@pytest.mark.parametrize("damage", ["bad pages", "truncated", "emptied"])
def test_a_damaged_database_is_refused_unchanged_and_the_newest_good_backup_is_named(
    recorded: tuple[Settings, str], damage: str
) -> None:
    settings, run_id = recorded
    db = settings.db_path
    good = backups.make_backup(db, settings.backup_dir)
    if damage == "bad pages":
        _damage_pages(db)
    elif damage == "truncated":  # a half-written copy
        with db.open("r+b") as f:
            f.truncate(db.stat().st_size // 2)
    else:
        db.write_bytes(b"")
    before = _digest(db)

    with pytest.raises(DatabaseDamaged) as refused:
        open_context(settings)
    message = str(refused.value)
    assert message.startswith(f"The database {db} is damaged (")
    assert f"the newest good backup is {good}" in message
    assert message.endswith(".") and message.count(". ") == 0  # one sentence
    assert refused.value.backup == good
    assert _digest(db) == before, "nothing may be written to a damaged database"

    # Following the advice brings every checkpointed trial back.
    for companion in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if companion.exists():
            companion.rename(companion.with_name(companion.name + ".damaged"))
    good_copy = good.read_bytes()
    db.write_bytes(good_copy)
    ctx = open_context(settings)
    try:
        with ctx.read() as s:
            count = s.scalar(select(func.count()).where(TrialRecord.run_id == run_id))
        assert count == 40
    finally:
        ctx.close()


def test_the_command_line_says_the_same_sentence(
    recorded: tuple[Settings, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = recorded
    backups.make_backup(settings.db_path, settings.backup_dir)
    _damage_pages(settings.db_path)
    code = cli_main(["audit", "verify", "--data-dir", str(settings.data_dir)])
    assert code != 0
    err = capsys.readouterr().err
    assert "is damaged" in err and "newest good backup" in err


def test_what_sqlite_raises_on_a_damaged_file_maps_to_the_damaged_answer(tmp_path: Path) -> None:
    not_a_database = tmp_path / "x.sqlite3"
    not_a_database.write_bytes(b"this is not a database file" * 200)
    conn = sqlite3.connect(not_a_database)
    try:
        with pytest.raises(sqlite3.DatabaseError) as raised:
            conn.execute("SELECT * FROM sqlite_master").fetchall()
    finally:
        conn.close()
    assert storage_fault(raised.value) is DATABASE_DAMAGED
