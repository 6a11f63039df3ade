"""The one place that knows the database is SQLite: durability pragmas and write locking."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from cogflow_desktop.store.backups import backup_database  # noqa: F401 (its old home)
from cogflow_desktop.store.faults import BUSY_TIMEOUT_SECONDS

READ_ONLY_OPTION = "cogflow_read_only"


def read_only(engine: Engine) -> Engine:
    """The same engine, for transactions that only read."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def make_engine(db_path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Autocommit at the driver level so that we emit BEGIN ourselves (see _begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk (WAL fsynced) before it returns, so an acknowledged
        # checkpoint survives a power cut.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Bounded: a database another program holds fails the write with a sentence after it
        # (store/faults.py), instead of hanging the request.
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: concurrent writers queue on busy_timeout
        # instead of failing with SQLITE_BUSY when a read transaction tries to upgrade.
        # Readers (marked by read_only()) take no lock and run beside the writer (WAL).
        readonly = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: committed (durably) on success, rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def integrity_check(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())


class TrialPageFetcher:
    """Pages of (trial_index, key_id, ciphertext) of one run, on the session's own connection
    (so the same transaction and snapshot), through a plain DB-API cursor: on the export's hot
    path SQLAlchemy's per-row objects would cost as much as the fetch itself. Lives here because
    the SQL and its placeholder style are the driver's (sqlite3's qmark)."""

    _SQL = (
        "SELECT trial_index, key_id, ciphertext FROM trial_records"
        " WHERE run_id = ? AND trial_index > ? ORDER BY trial_index LIMIT ?"
    )

    def __init__(self, session: Session) -> None:
        self._cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]

    def __call__(self, run_id: str, after_index: int, limit: int) -> list[tuple[int, int, bytes]]:
        return self._cursor.execute(self._SQL, (run_id, after_index, limit)).fetchall()

    def close(self) -> None:
        self._cursor.close()


def trial_page_fetcher(session: Session) -> TrialPageFetcher:
    return TrialPageFetcher(session)


def trial_index_keys(session: Session, run_id: str) -> list[tuple[int, int]]:
    """(trial_index, key_id) of a run's trial rows in trial_index order, through the driver's
    cursor on the session's connection (an integrity check reads these for every exported run;
    SQLAlchemy's per-row objects would cost more than the query)."""
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        return cursor.execute(
            "SELECT trial_index, key_id FROM trial_records WHERE run_id = ? ORDER BY trial_index",
            (run_id,),
        ).fetchall()
    finally:
        cursor.close()
