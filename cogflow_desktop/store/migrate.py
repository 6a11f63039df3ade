"""Bring the database to the current schema at start-up, after a backup copy of the file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cogflow_desktop.store.backups import backup_database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_database(engine: Engine, db_path: Path, backup_dir: Path) -> Path | None:
    """Migrate to head. Returns the backup made first, or None when nothing had to change.

    A backup is taken only when there is something to migrate: copying a large database on
    every start would slow start-up for nothing.
    """
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return None
    backup: Path | None = None
    if current is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = backup_dir / f"cogflow-{stamp}-before-{head}.sqlite3"
        backup_database(db_path, backup)
    cfg = _alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
    return backup
