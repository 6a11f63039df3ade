"""Insert-or-update in one statement (SQLite's ON CONFLICT), for the recording hot path.

One statement instead of a SELECT then an INSERT or UPDATE per row: fewer round trips inside
the write lock, and no ORM unit of work for rows that are never read back by the writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session


@cache
def _statement(table: Table, conflict: tuple[str, ...], changed: tuple[str, ...]) -> Insert:
    # Built once per shape: constructing `excluded` and its columns costs more than the insert.
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(conflict), set_={c: stmt.excluded[c] for c in changed}
    )


def upsert(
    session: Session,
    model: type[Any],
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    keep: Sequence[str] = ("created_at",),
) -> None:
    """Insert `rows`; where a row with the same `conflict` columns exists, overwrite every
    given column except the `conflict` ones and those in `keep`."""
    if not rows:
        return
    changed = tuple(c for c in rows[0] if c not in conflict and c not in keep)
    stmt = _statement(model.__table__, tuple(conflict), changed)
    session.connection().execute(stmt, list(rows))
