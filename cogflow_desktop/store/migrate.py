"""Bring the database to the current schema at start-up, after a backup copy of the file.

Most starts find the database already current: that is decided from the migration files'
revision lines and the database's alembic_version row, without importing Alembic (a third of
the app's start-up); Alembic is loaded only when there is something to migrate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from cogflow_desktop.store.backups import backup_database
from cogflow_desktop.store.engine import read_only

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^revision\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)
_DOWN = re.compile(r'^down_revision\s*=\s*(?:["\']([^"\']+)["\']|None)', re.MULTILINE)


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest revision, as Alembic reads the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def script_head() -> str | None:
    """The newest revision from the scripts' `revision =` / `down_revision =` lines; None when
    they do not name exactly one head (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        found, down = _REVISION.search(text), _DOWN.search(text)
        if found is None or down is None:
            return None
        revisions.add(found.group(1))
        if down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None for a new database), read with plain SQL."""
    with read_only(engine).connect() as conn:  # no write lock just to read it
        known = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first()
        if known is None:
            return None
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    if len(rows) > 1:
        raise RuntimeError("The database names more than one schema revision.")
    return str(rows[0][0]) if rows else None


def upgrade_database(engine: Engine, db_path: Path, backup_dir: Path) -> Path | None:
    """Migrate to head. Returns the backup made first, or None when nothing had to change.

    A backup is taken only when there is something to migrate: copying a large database on
    every start would slow start-up for nothing.
    """
    current = current_revision(engine)
    if current is not None and current == script_head():
        return None
    head = head_revision()
    if current == head:
        return None
    backup: Path | None = None
    if current is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = backup_dir / f"cogflow-{stamp}-before-{head}.sqlite3"
        backup_database(db_path, backup)
    from alembic import command

    cfg = _alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
    return backup
