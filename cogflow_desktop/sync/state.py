"""The store side of sync: which runs are due, and each run's SyncState row.

Every change is its own durable transaction, so a sync killed at any point resumes from the
last recorded step. `attempts` counts the sync attempts of a run that ended (acknowledged or
failed). Audit rows are written per run per outcome (acknowledged, failed), in the
same transaction as the state they describe, never per piece.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cogflow_desktop import audit
from cogflow_desktop.services.context import Context
from cogflow_desktop.store.models import (
    ConfigVersion,
    RunSession,
    Study,
    SyncPublication,
    SyncState,
    utcnow,
)
from cogflow_desktop.sync import group_commit

PENDING = "pending"
STARTED_REMOTE = "started_remote"
SENDING = "sending"
ACKNOWLEDGED = "acknowledged"
FAILED = "failed"
STATES = (PENDING, STARTED_REMOTE, SENDING, ACKNOWLEDGED, FAILED)
# Shown for runs a participant is still doing: they are not synced until they end.
RECORDING = "recording"

# The engine's threads queue here for the write lock rather than in SQLite's busy handler,
# whose sleeps grow long and unfair when several threads of one process contend.
_WRITES = threading.Lock()


@contextmanager
def _write(ctx: Context) -> Iterator[Session]:
    with _WRITES, ctx.write() as s:
        yield s


@dataclass(frozen=True)
class Snapshot:
    run_id: str
    state: str
    server_url: str | None
    remote_study_slug: str | None
    remote_config_label: str | None
    remote_run_session_id: str | None
    remote_config_version_id: str | None
    pieces_total: int
    pieces_acked: int
    attempts: int
    retryable: bool
    reason: str | None

    @classmethod
    def of(cls, row: SyncState | None, run_id: str) -> Snapshot:
        if row is None:
            return cls(run_id, PENDING, None, None, None, None, None, 0, 0, 0, True, None)
        return cls(
            row.run_id,
            row.state,
            row.server_url,
            row.remote_study_slug,
            row.remote_config_label,
            row.remote_run_session_id,
            row.remote_config_version_id,
            row.pieces_total,
            row.pieces_acked,
            row.attempts,
            row.retryable,
            row.reason,
        )


def _syncable(quiet_seconds: float):  # type: ignore[no-untyped-def]
    """Runs that ended, or were interrupted (sent as failed): never one still being recorded.
    Any process that opens the store flags open runs as interrupted, even while the app is
    still recording one, so an interrupted run is sent only after a quiet period."""
    quiet_since = utcnow() - timedelta(seconds=quiet_seconds)
    return or_(
        RunSession.status.in_(("completed", "failed")),
        and_(
            RunSession.status == "started",
            RunSession.interrupted_at.is_not(None),
            RunSession.last_activity_at <= quiet_since,
        ),
    )


@dataclass(frozen=True)
class DueRuns:
    run_ids: list[str]
    # Runs begun on another server: finishing them elsewhere could duplicate them.
    elsewhere: list[tuple[str, str]]


def due_runs(
    ctx: Context,
    server_url: str,
    *,
    retry_failed: bool = False,
    interrupted_quiet_seconds: float = 600.0,
) -> DueRuns:
    """Runs not yet acknowledged, oldest first. Permanently failed runs only when asked."""
    with ctx.read() as s:
        rows = s.execute(
            select(RunSession.id, SyncState)
            .outerjoin(SyncState, SyncState.run_id == RunSession.id)
            .where(_syncable(interrupted_quiet_seconds))
            .order_by(RunSession.started_at, RunSession.id)
        ).all()
    due: list[str] = []
    elsewhere: list[tuple[str, str]] = []
    for run_id, st in rows:
        if st is None:
            due.append(run_id)
            continue
        if st.state == ACKNOWLEDGED:
            continue
        if st.remote_run_session_id and st.server_url and st.server_url != server_url:
            elsewhere.append((run_id, st.server_url))
            continue
        if st.state == FAILED and not st.retryable and not retry_failed:
            continue
        due.append(run_id)
    return DueRuns(due, elsewhere)


def load(ctx: Context, run_id: str) -> Snapshot:
    with ctx.read() as s:
        return Snapshot.of(s.get(SyncState, run_id), run_id)


def _row(s: Session, run_id: str) -> SyncState:
    row = s.get(SyncState, run_id)
    if row is None:
        row = SyncState(
            run_id=run_id, state=PENDING, pieces_total=0, pieces_acked=0, attempts=0, retryable=True
        )
        s.add(row)
    return row


def _set(s: Session, run_id: str, **fields: Any) -> SyncState:
    row = _row(s, run_id)
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    s.flush()
    return row


def prepare(ctx: Context, run_ids: list[str]) -> None:
    """Runs that failed before and are tried again show the step they resume at (one
    transaction for all of them)."""
    with _write(ctx) as s:
        for i in range(0, len(run_ids), 500):
            rows = s.scalars(
                select(SyncState).where(
                    SyncState.run_id.in_(run_ids[i : i + 500]), SyncState.state == FAILED
                )
            ).all()
            for row in rows:
                row.state = _resume_state(row)
                row.retryable = True
                row.updated_at = utcnow()


def _resume_state(row: SyncState) -> str:
    if not row.remote_run_session_id:
        return PENDING
    return SENDING if row.pieces_total else STARTED_REMOTE


@dataclass(frozen=True)
class Published:
    """Where the server stored a config version, and who owns the study there."""

    study_slug: str
    config_version_label: str
    config_version_id: str | None
    # None: the server did not say; []: it said nobody does.
    owner_usernames: list[str] | None
    study_slug_adjusted: bool = False
    config_version_label_adjusted: bool = False


def record_published(
    ctx: Context,
    *,
    server_url: str,
    config_version_id: int,
    published: Published,
    account: str,
    actor: str,
) -> None:
    """One row per server and local config version, replaced at each publish; audited."""
    with _write(ctx) as s:
        row = s.scalar(
            select(SyncPublication).where(
                SyncPublication.server_url == server_url,
                SyncPublication.config_version_id == config_version_id,
            )
        )
        if row is None:
            row = SyncPublication(server_url=server_url, config_version_id=config_version_id)
            s.add(row)
        row.remote_study_slug = published.study_slug
        row.remote_config_label = published.config_version_label
        row.remote_config_version_id = published.config_version_id
        row.owner_usernames = published.owner_usernames
        row.account = account
        row.published_at = utcnow()
        s.flush()
        audit.record(
            s,
            "sync.publish",
            actor=actor,
            target=f"{published.study_slug}/{published.config_version_label}",
            client="sync",
            details={
                "server": server_url,
                "account": account,
                "local_config_version_id": config_version_id,
                "remote_config_version_id": published.config_version_id,
                "owner_usernames": published.owner_usernames,
                "study_slug_adjusted": published.study_slug_adjusted,
                "config_version_label_adjusted": published.config_version_label_adjusted,
            },
        )


def record_started(
    ctx: Context,
    run_id: str,
    server_url: str,
    remote_run_session_id: str,
    slug: str,
    label: str,
    config_version_id: str | None,
) -> None:
    """Must be durable before anything else is sent for this run (start is not idempotent).
    The slug, label and version id are the ones the server started the run on (checked)."""

    def work(s: Session) -> None:
        _set(
            s,
            run_id,
            state=STARTED_REMOTE,
            server_url=server_url,
            remote_run_session_id=remote_run_session_id,
            remote_study_slug=slug,
            remote_config_label=label,
            remote_config_version_id=config_version_id,
        )

    group_commit.run(ctx, work)


def record_pieces(ctx: Context, run_id: str, total: int, acked: int) -> None:
    def work(s: Session) -> None:
        _set(s, run_id, state=SENDING, pieces_total=total, pieces_acked=acked)

    group_commit.run(ctx, work)


def record_acknowledged(
    ctx: Context,
    run_id: str,
    *,
    pieces: int,
    actor: str,
    server_url: str,
    details: dict[str, Any],
) -> None:
    def work(s: Session) -> None:
        row = _row(s, run_id)
        row = _set(
            s,
            run_id,
            state=ACKNOWLEDGED,
            retryable=False,
            reason=None,
            pieces_total=pieces,
            pieces_acked=pieces,
            attempts=row.attempts + 1,
        )
        audit.record(
            s,
            "sync.run",
            actor=actor,
            target=run_id,
            client="sync",
            details={
                "server": server_url,
                "remote_run_session_id": row.remote_run_session_id,
                "attempts": row.attempts,
                **details,
            },
        )

    group_commit.run(ctx, work)


def record_failed(
    ctx: Context, run_id: str, *, reason: str, retryable: bool, actor: str, server_url: str
) -> None:
    def work(s: Session) -> None:
        row = _row(s, run_id)
        row = _set(
            s,
            run_id,
            state=FAILED,
            retryable=retryable,
            reason=reason,
            server_url=row.server_url or server_url,
            attempts=row.attempts + 1,
        )
        audit.record(
            s,
            "sync.run",
            actor=actor,
            target=run_id,
            client="sync",
            outcome="failed",
            details={
                "server": server_url,
                "remote_run_session_id": row.remote_run_session_id,
                "retryable": retryable,
                "reason": reason,
                "pieces": f"{row.pieces_acked}/{row.pieces_total}",
            },
        )

    group_commit.run(ctx, work)


def record_session(
    ctx: Context, *, actor: str, server_url: str, outcome: str, details: dict[str, Any]
) -> None:
    """One row per sync invocation (its totals), beside the per-run rows."""
    with _write(ctx) as s:
        audit.record(
            s,
            "sync.session",
            actor=actor,
            client="sync",
            target=server_url,
            outcome=outcome,
            details=details,
        )


@dataclass(frozen=True)
class StatusRow:
    run_session_id: str
    study_slug: str
    run_status: str
    state: str
    # When the run happened (the central server shows when it was synced instead).
    started_at: datetime
    completed_at: datetime | None
    remote_run_session_id: str | None
    pieces_acked: int
    pieces_total: int
    attempts: int
    retryable: bool | None
    reason: str | None
    server_url: str | None
    updated_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "run_session_id": self.run_session_id,
            "study_slug": self.study_slug,
            "run_status": self.run_status,
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "remote_run_session_id": self.remote_run_session_id,
            "pieces_acked": self.pieces_acked,
            "pieces_total": self.pieces_total,
            "attempts": self.attempts,
            "retryable": self.retryable,
            "reason": self.reason,
            "server_url": self.server_url,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def status_rows(ctx: Context) -> list[StatusRow]:
    """Every run with where it stands, oldest first."""
    with ctx.read() as s:
        rows = s.execute(
            select(RunSession, Study.slug, SyncState)
            .join(Study, Study.id == RunSession.study_id)
            .outerjoin(SyncState, SyncState.run_id == RunSession.id)
            .order_by(RunSession.started_at, RunSession.id)
        ).all()
    out: list[StatusRow] = []
    for run, slug, st in rows:
        interrupted = run.status == "started" and run.interrupted_at is not None
        run_status = "interrupted" if interrupted else run.status
        if st is not None:
            state = st.state
        elif run.status == "started" and not interrupted:
            state = RECORDING
        else:
            state = PENDING
        out.append(
            StatusRow(
                run.id,
                slug,
                run_status,
                state,
                run.started_at,
                run.completed_at,
                st.remote_run_session_id if st else None,
                st.pieces_acked if st else 0,
                st.pieces_total if st else 0,
                st.attempts if st else 0,
                st.retryable if st else None,
                st.reason if st else None,
                st.server_url if st else None,
                st.updated_at if st else None,
            )
        )
    return out


@dataclass(frozen=True)
class CentralStudy:
    """A local config version as a central server stored it, with the study's owners there."""

    study_slug: str
    config_version_label: str
    server_url: str
    remote_study_slug: str
    remote_config_label: str
    remote_config_version_id: str | None
    owner_usernames: list[str] | None
    account: str
    published_at: datetime

    def owner_sentence(self) -> str:
        """One sentence naming the central account that owns the study."""
        where = f"{self.remote_study_slug} ({self.remote_config_label}) on {self.server_url}"
        owners = self.owner_usernames
        if owners is None:
            who = "the server did not say which account owns it"
        elif not owners:
            who = "it has no owner there, so every researcher on that server can see it"
        elif self.account in owners:
            who = f"owned by {_names(owners)}"
        else:
            who = f"owned by {_names(owners)}; {self.account} publishes to it by shared access"
        return f"{self.study_slug}/{self.config_version_label} → {where}: {who}."

    def as_json(self) -> dict[str, Any]:
        return {
            "study_slug": self.study_slug,
            "config_version_label": self.config_version_label,
            "server_url": self.server_url,
            "remote_study_slug": self.remote_study_slug,
            "remote_config_label": self.remote_config_label,
            "remote_config_version_id": self.remote_config_version_id,
            "owner_usernames": self.owner_usernames,
            "account": self.account,
            "published_at": self.published_at.isoformat(),
        }


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def central_studies(ctx: Context) -> list[CentralStudy]:
    """What each central server said at the last publish of each local config version."""
    with ctx.read() as s:
        rows = s.execute(
            select(SyncPublication, Study.slug, ConfigVersion.label)
            .join(ConfigVersion, ConfigVersion.id == SyncPublication.config_version_id)
            .join(Study, Study.id == ConfigVersion.study_id)
            .order_by(Study.slug, ConfigVersion.publish_seq, SyncPublication.server_url)
        ).all()
    return [
        CentralStudy(
            slug,
            label,
            pub.server_url,
            pub.remote_study_slug,
            pub.remote_config_label,
            pub.remote_config_version_id,
            pub.owner_usernames,
            pub.account,
            pub.published_at,
        )
        for pub, slug, label in rows
    ]
