"""Plain DB-API statements on a session's own connection, for the recording hot path.

A checkpoint runs once per trial and is a handful of one-row statements; through SQLAlchemy
each costs ~10× what SQLite itself takes (execution context, result objects, events), more
than the durable commit. A run's start and its final submit use it too (through the ORM their
flushes were most of their CPU, under the write lock every participant shares). Here the
same SQL goes straight to the driver's cursor, inside the session's transaction (same
connection, same BEGIN IMMEDIATE, same commit: durability is unchanged). Values are written
exactly as the SQLAlchemy column types would write them (`sql_datetime`, `sql_json`), so ORM
readers see no difference, and driver errors are raised as SQLAlchemy's own exceptions, so
callers handle them the same way wherever a statement ran.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, exc
from sqlalchemy.orm import Session

Params = Sequence[Any]


class Cursor:
    """The driver's cursor on a session's connection, for one unit of work; take one per
    transaction (getting it is the costly part) and run its statements through it.

    Where something listens to SQLAlchemy's statement events on the engine (instrumentation,
    tests that count or fail statements), the statements go through SQLAlchemy instead, so
    they see every one of them."""

    def __init__(self, session: Session) -> None:
        # session.connection() begins the transaction (BEGIN IMMEDIATE for a writer) if needed.
        conn = session.connection()
        observed = conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute
        self._observed: Connection | None = conn if observed else None
        driver_conn = conn.connection.driver_connection
        self._cursor: sqlite3.Cursor = driver_conn.cursor()  # type: ignore[union-attr]
        self._last: CursorResult[Any] | None = None

    def execute(self, sql: str, params: Params = ()) -> None:
        if self._observed is not None:
            self._last = self._observed.exec_driver_sql(sql, tuple(params))
            return
        try:
            self._cursor.execute(sql, params)
        except sqlite3.Error as error:
            raise _wrapped(sql, params, error) from error

    def first(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        """The first row of a query (the rest are not read)."""
        self.execute(sql, params)
        if self._observed is not None:
            assert self._last is not None
            found = self._last.first()
            return None if found is None else tuple(found)
        row: tuple[Any, ...] | None = self._cursor.fetchone()
        return row

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        if self._observed is not None:
            self._observed.exec_driver_sql(sql, [tuple(r) for r in rows])
            return
        try:
            self._cursor.executemany(sql, rows)
        except sqlite3.Error as error:
            raise _wrapped(sql, rows, error) from error

    def close(self) -> None:
        self._cursor.close()


def _wrapped(sql: str, params: Any, error: sqlite3.Error) -> BaseException:
    return exc.DBAPIError.instance(sql, params, error, sqlite3.Error)


def sql_datetime(value: datetime) -> str:
    """A timezone-aware datetime as models.UTCDateTime stores it (UTC, SQLite's DATETIME
    text with microseconds)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def sql_json(value: Any) -> str:
    """A value as SQLAlchemy's JSON type stores it (json.dumps with its defaults)."""
    return json.dumps(value)
