"""A data folder as a lab machine leaves it after a crash and a bad sector: a researcher with a
TOTP code, a run recorded before the last good backup, a run recorded after it (still in the
-wal when the process died), and a damaged page in the database file."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pyotp

from cogflow_desktop.services import auth, runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store import backups

PASSWORD = "alice's long passphrase"
TRIALS = 12
SECRET = "participant-answer-9e2b"  # plaintext that must appear only in exports


@dataclass
class Damaged:
    settings: Settings
    totp_secret: str
    before_backup: str  # run recorded before the backup: in the backup and the damaged file
    after_backup: str  # run recorded after it: only in the damaged file
    backup: Path
    digests: dict[str, str]  # name -> sha256 of the damaged files as the damage left them


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_digests(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): digest(p) for p in data_dir.rglob("*") if p.is_file()}


def record_run(ctx: Context, participant: str, n: int, trials: int = TRIALS) -> str:
    run_id = runs.start_run(ctx, "s", participant, actor="t", client="t")["run_session_id"]
    rows = [
        {"trial_index": i, "response": f"{SECRET}-{n}-{i}", "pad": "y" * 600}
        for i in range(trials)
    ]
    runs.checkpoint(
        ctx, runs.CheckpointRequest(run_id, "t", 0, trials, {"p": n}, rows), actor="t", client="t"
    )
    runs.submit(
        ctx,
        runs.SubmitRequest(run_id, "completed", trials, {"n": n}, {"p": n}, []),
        actor="t",
        client="t",
    )
    return str(run_id)


def researcher_and_study(ctx: Context, password: str) -> str:
    """Researcher "alice" with TOTP enrolled and study "s" published; returns her TOTP secret."""
    users.create_user(ctx, "alice", password)
    login = auth.login(ctx, "alice", password, "test")
    secret = auth.mfa_setup(ctx, login.secrets, False, "test").secret
    auth.verify_code(ctx, login.secrets, pyotp.TOTP(secret).now(), "test")
    auth.logout(ctx, login.token, "test")
    studies.publish(
        ctx, studies.PublishRequest("s", "s", "v1", {"timeline": []}, None, None),
        actor="t", client="t",
    )  # fmt: skip
    return str(secret)


def _ciphertext(db: Path, run_id: str, index: int) -> tuple[bytes, int]:
    with sqlite3.connect(f"{db.as_uri()}?mode=ro&immutable=1", uri=True) as conn:
        row = conn.execute(
            "SELECT ciphertext FROM trial_records WHERE run_id = ? AND trial_index = ?",
            (run_id, index),
        ).fetchone()
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return bytes(row[0]), page


def damaged_folder(data_dir: Path, *, with_backup: bool = True) -> Damaged:
    settings = Settings.from_env(data_dir)
    ctx = open_context(settings)
    try:
        assert ctx.backups is not None and ctx.backups.wait_idle()
        secret = researcher_and_study(ctx, PASSWORD)
        before = record_run(ctx, "P-before", 0)
    finally:
        ctx.close()
    db = settings.db_path
    if with_backup:
        backup = backups.make_backup(db, settings.backup_dir)
    else:
        shutil.rmtree(settings.backup_dir)
        backup = Path()
    ctx = open_context(settings, flag_interrupted_runs=False)
    try:
        after = record_run(ctx, "P-after", 1)
        # The process dies here: the folder keeps the file, its -wal and -shm as they are now.
        crashed = {s: db.with_name(db.name + s).read_bytes() for s in ("", "-wal", "-shm")}
    finally:
        ctx.close()
    for suffix, data in crashed.items():
        db.with_name(db.name + suffix).write_bytes(data)
    # A bad sector where the file holds trial 5 of the run recorded before the backup.
    blob, page = _ciphertext(db, before, 5)
    data = db.read_bytes()
    at = data.index(blob)
    with db.open("r+b") as f:
        f.seek(at - at % page)
        f.write(os.urandom(page))
    assert backups.quick_check(db) is not None
    digests = {
        db.name + s: digest(db.with_name(db.name + s)) for s in ("", "-wal", "-shm")
    }
    return Damaged(settings, secret, before, after, backup, digests)
