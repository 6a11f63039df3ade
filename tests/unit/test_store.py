"""The SQLite engine's durability settings, migrations with backups, and the audit chain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from cogflow_desktop import audit
from cogflow_desktop.services import studies, users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.engine import integrity_check, make_engine
from cogflow_desktop.store.migrate import (
    _alembic_config,
    current_revision,
    head_revision,
    upgrade_database,
)
from cogflow_desktop.store.models import AuditEvent, Base, Study

FIRST_REVISION = "0001"


def test_engine_is_wal_with_full_sync(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "db.sqlite3")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_upgrade_on_empty_database_creates_schema_without_backup(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    engine = make_engine(db)
    try:
        assert current_revision(engine) is None
        backup = upgrade_database(engine, db, tmp_path / "backups")
        assert backup is None  # nothing existed to lose
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert integrity_check(engine) == "ok"
    finally:
        engine.dispose()
    assert not (tmp_path / "backups").exists()


def _seed(data_dir: Path) -> None:
    ctx = open_context(Settings.from_env(data_dir))
    try:
        users.create_user(ctx, "alice", "alice's passphrase")
        studies.publish(
            ctx,
            studies.PublishRequest("kept", "Kept", "v1", {"task_type": "rdm"}),
            actor="alice",
            client=None,
        )
    finally:
        ctx.close()


def test_reopening_a_current_database_makes_no_backup_and_loses_nothing(tmp_path: Path) -> None:
    _seed(tmp_path)
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        assert ctx.migration_backup is None
        with ctx.read() as s:
            assert s.scalar(select(Study.slug)) == "kept"
            assert audit.verify_chain(s).ok
    finally:
        ctx.close()
    # No migration backup (the regular daily ones are store/backups.py's, see tests/faults).
    assert not list((tmp_path / "backups").glob("*-before-*"))


def test_database_at_first_revision_opens_with_current_code(tmp_path: Path) -> None:
    """A database written by the first release opens now; if the schema moved on since, a
    backup copy of the old file is taken first and holds the old data."""
    db = tmp_path / "cogflow.sqlite3"
    engine = make_engine(db)
    try:
        cfg = _alembic_config()
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, FIRST_REVISION)
            conn.commit()
            conn.exec_driver_sql(
                "INSERT INTO studies (slug, name, runtime_mode, created_at, last_activity_at) "
                "VALUES ('old', 'Old study', 'django', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"
            )
            conn.commit()
    finally:
        engine.dispose()

    ctx = open_context(Settings.from_env(tmp_path))
    try:
        with ctx.read() as s:
            assert s.scalar(select(Study.name).where(Study.slug == "old")) == "Old study"
        assert current_revision(ctx.engine) == head_revision()
        backup = ctx.migration_backup
    finally:
        ctx.close()
    if head_revision() == FIRST_REVISION:
        assert backup is None
    else:
        assert backup is not None and backup.exists()
        with sqlite3.connect(backup) as old:
            assert old.execute("SELECT name FROM studies").fetchall() == [("Old study",)]


# --- the audit chain ---------------------------------------------------------------------------


@pytest.fixture()
def ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    context = open_context(Settings.from_env(tmp_path))
    yield context
    context.close()


def test_audit_rows_chain_and_verify(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.write() as s:
        first = audit.record(s, "a", actor="alice")
        second = audit.record(s, "b", actor="bob", details={"k": [1, 2]}, target="t")
    assert first.id == 1 and first.prev_hash == audit.GENESIS
    assert second.id == 2 and second.prev_hash == first.hash
    with ctx.read() as s:
        report = audit.verify_chain(s, batch=1)  # batching walks the chain across pages
    assert report.ok and report.rows_checked == 2


def test_audit_verify_reports_first_broken_row(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.write() as s:
        for i in range(5):
            audit.record(s, "x", actor="alice", details={"i": i})
    with ctx.write() as s:
        s.get(AuditEvent, 4).outcome = "denied"
    with ctx.read() as s:
        report = audit.verify_chain(s, batch=2)
    assert not report.ok
    assert report.first_broken_id == 4 and report.rows_checked == 3
    assert "row 4" in report.problem


def test_empty_audit_chain_is_ok(ctx) -> None:  # type: ignore[no-untyped-def]
    with ctx.read() as s:
        report = audit.verify_chain(s)
    assert report.ok and report.rows_checked == 0
