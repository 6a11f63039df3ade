"""The application context: settings, database, in-memory secrets. One per process."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from cogflow_desktop import audit
from cogflow_desktop.audit_anchor import Anchorer
from cogflow_desktop.security import files
from cogflow_desktop.services.manifest import ManifestCache
from cogflow_desktop.services.resume_snapshots import ResumeSnapshots
from cogflow_desktop.services.throttle import FailureThrottle, Tier, standard_tiers
from cogflow_desktop.services.vault import RunKeyCache, SessionVault
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.backups import BackupScheduler, check_database
from cogflow_desktop.store.engine import (
    make_engine,
    make_session_factory,
    read_only,
    transaction,
)
from cogflow_desktop.store.migrate import upgrade_database
from cogflow_desktop.store.models import InstallKeys, RunSession, utcnow

NEW_RUN_KEYS = "cogflow_new_run_keys"
# Callables run once the write transaction has committed (caches that must never get ahead of
# what is durable, such as the writer's run manifests).
AFTER_COMMIT = "cogflow_after_commit"


@dataclass
class Context:
    settings: Settings
    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]
    sessions: SessionVault = field(default_factory=SessionVault)
    run_keys: RunKeyCache = field(default_factory=RunKeyCache)
    manifests: ManifestCache = field(default_factory=ManifestCache)
    # Where each live kiosk run stands, in memory only (services/resume_snapshots.py).
    resume: ResumeSnapshots = field(default_factory=ResumeSnapshots)
    login_throttle: FailureThrottle | None = None
    totp_throttle: FailureThrottle | None = None
    migration_backup: Path | None = None
    anchor: Anchorer | None = None
    backups: BackupScheduler | None = None
    _write_lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (holds the database write lock until it ends)."""
        # Writers of this process queue here, waking as soon as the lock is free; on SQLite's
        # busy handler they would sleep in growing steps (up to 100 ms) and poll instead.
        with self._write_lock, transaction(self.writer) as s:
            yield s
        # Committed: content keys created in it may now be reused by later writes.
        for run_id, (key_id, key) in s.info.pop(NEW_RUN_KEYS, {}).items():
            self.run_keys.put(run_id, key_id, key)
        for hook in s.info.pop(AFTER_COMMIT, []):
            hook()
        head = s.info.pop(audit.HEAD_INFO, None)
        if head is not None and self.anchor is not None:
            self.anchor.advance(*head)

    def read(self) -> AbstractContextManager[Session]:
        return transaction(self.reader)

    def install_keys(self) -> InstallKeys | None:
        """The install's public half, read afresh: a key rotation (perhaps by another process)
        replaces it, and nothing may be sealed to a key that was retired."""
        with self.read() as s:
            return s.scalar(select(InstallKeys).limit(1))

    def chain_state(self, ids: Sequence[int]) -> tuple[int, dict[int, str]]:
        with self.read() as s:
            return audit.chain_state(s, ids)

    def close(self) -> None:
        if self.backups is not None:
            self.backups.stop()
        if self.anchor is not None:
            self.anchor.disarm()  # the last anchor of this process, then the key is gone
        self.sessions.clear()
        self.engine.dispose()


def open_context(settings: Settings, *, flag_interrupted_runs: bool = True) -> Context:
    """Open (and if needed create and migrate) the data folder's database.

    The process that records runs (the server, the app) flags runs a previous process left
    open; a command-line tool opening the folder beside a running server must not, or it would
    mark a participant's live run as interrupted. That process also makes the regular backups.
    A damaged database raises store.backups.DatabaseDamaged before anything is written.
    """
    _private_data_folder(settings)
    check_database(settings.db_path, settings.backup_dir)
    engine = make_engine(settings.db_path)
    backup = upgrade_database(engine, settings.db_path, settings.backup_dir)
    ctx = Context(
        settings=settings,
        engine=engine,
        writer=make_session_factory(engine),
        reader=make_session_factory(read_only(engine)),
        login_throttle=FailureThrottle(_tiers(settings)),
        totp_throttle=FailureThrottle(_tiers(settings)),
        migration_backup=backup,
    )
    ctx.anchor = Anchorer(settings.data_dir, ctx.chain_state)
    from cogflow_desktop.services.auth import seed_throttles  # auth builds on this module

    seed_throttles(ctx)
    if flag_interrupted_runs:
        _mark_interrupted_runs(ctx)
        ctx.backups = BackupScheduler(settings.db_path, settings.backup_dir).start()
    return ctx


def _private_data_folder(settings: Settings) -> None:
    """Everything this process creates is owner-only from here on; the data folder, the
    database and its companions are made so now, repairing an older installation's modes."""
    files.private_umask()
    files.private_dir(settings.data_dir)
    db = settings.db_path
    if not db.exists():
        files.create_private_file(db)  # SQLite gives -wal and -shm the database file's mode
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            files.private_file(path)
    for folder in (settings.backup_dir, settings.data_dir / "logs"):
        files.tighten_tree(folder)


def _tiers(settings: Settings) -> tuple[Tier, ...]:
    return standard_tiers(settings.throttle_limit, settings.throttle_window_seconds)


def _mark_interrupted_runs(ctx: Context) -> None:
    """Runs a previous process left open are flagged, never dropped: their trials stay, and a
    late checkpoint from a page that is still alive is still accepted."""
    with ctx.write() as s:
        ids = s.scalars(
            select(RunSession.id).where(
                RunSession.status == "started", RunSession.interrupted_at.is_(None)
            )
        ).all()
        if not ids:
            return
        s.execute(update(RunSession).where(RunSession.id.in_(ids)).values(interrupted_at=utcnow()))
        audit.record(
            s,
            "run.interrupted",
            actor=audit.SYSTEM_ACTOR,
            details={"run_session_ids": list(ids)},
        )
