"""Append-only, hash-chained audit log.

Each row's hash covers its own fields and the previous row's hash, and ids are contiguous,
so editing, deleting or reordering any row breaks the chain from that row on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cogflow_desktop.store import driver
from cogflow_desktop.store.models import AuditEvent, utcnow

GENESIS = "0" * 64
_LAST_ROW = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
# The append runs on every checkpoint: plain driver statements (store/driver.py).
_LAST_ROW_SQL = "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1"
_INSERT_SQL = (
    "INSERT INTO audit_events (id, created_at, actor, action, target, outcome, client,"
    " details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# Where record() leaves the chain's new head in the session (Context.write hands it to the
# anchor once the transaction has committed).
HEAD_INFO = "cogflow_audit_head"

SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"


def _row_hash(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        {
            "id": event.id,
            "created_at": event.created_at.isoformat(),
            "actor": event.actor,
            "action": event.action,
            "target": event.target,
            "outcome": event.outcome,
            "client": event.client,
            "details": event.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    outcome: str = "ok",
    target: str | None = None,
    client: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (which holds the write lock)."""
    cursor = driver.Cursor(session)
    last = cursor.first(_LAST_ROW_SQL)
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    event = AuditEvent(
        id=prev_id + 1,
        created_at=utcnow(),
        actor=actor[:150],
        action=action,
        target=None if target is None else target[:255],
        outcome=outcome,
        client=None if client is None else client[:64],
        details=details or {},
        prev_hash=prev_hash,
        hash="",
    )
    event.hash = _row_hash(prev_hash, event)
    # Not through the ORM's unit of work: the row is never read back in this transaction.
    cursor.execute(
        _INSERT_SQL,
        (
            event.id,
            driver.sql_datetime(event.created_at),
            event.actor,
            event.action,
            event.target,
            event.outcome,
            event.client,
            driver.sql_json(event.details),
            event.prev_hash,
            event.hash,
        ),
    )
    cursor.close()
    session.info[HEAD_INFO] = (event.id, event.hash)
    return event


def chain_state(session: Session, ids: Sequence[int]) -> tuple[int, dict[int, str]]:
    """The chain's row count (its last id) and the hashes of the rows asked for (and of the
    last one)."""
    conn = session.connection()
    last = conn.execute(_LAST_ROW).first()
    if last is None:
        return 0, {}
    wanted = {*ids, last[0]}
    rows = conn.execute(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(wanted)))
    return int(last[0]), {int(i): h for i, h in rows}


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    first_broken_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in id order, a batch at a time so memory stays flat."""
    expected_prev = GENESIS
    expected_id = 1
    checked = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return ChainReport(checked, None, None)
        for event in rows:
            if event.id != expected_id:
                return ChainReport(checked, expected_id, f"row {expected_id} is missing")
            if event.prev_hash != expected_prev:
                return ChainReport(
                    checked, event.id, f"row {event.id} does not follow row {event.id - 1}"
                )
            if _row_hash(event.prev_hash, event) != event.hash:
                return ChainReport(
                    checked, event.id, f"row {event.id} was changed after it was written"
                )
            expected_prev = event.hash
            expected_id += 1
            checked += 1
            last_id = event.id
        session.expunge_all()
