"""Read-only queries the pages show, as plain dicts (no Qt): the contract's study and run items,
plus what only the desktop knows (version counts, sync states, audit rows)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select

from cogflow_desktop import audit
from cogflow_desktop.services import studies
from cogflow_desktop.services.context import Context
from cogflow_desktop.store.models import (
    AuditEvent,
    ConfigVersion,
    RunSession,
    Study,
    SyncState,
    User,
    utcnow,
)

NOT_SYNCED = "not synced"


def sync_summary(states: Counter[str]) -> str:
    """'2 acknowledged, 1 failed' style text, most important first."""
    order = ["failed", "sending", "started_remote", "pending", NOT_SYNCED, "acknowledged"]
    parts = [f"{states[k]} {k.replace('_', ' ')}" for k in order if states.get(k)]
    parts += [f"{n} {k}" for k, n in states.items() if k not in order and n]
    return ", ".join(parts) if parts else "no runs"


def study_rows(ctx: Context) -> list[dict[str, Any]]:
    rows = studies.list_studies(ctx)
    with ctx.read() as s:
        versions = dict(
            s.execute(
                select(Study.slug, func.count(ConfigVersion.id))
                .join(ConfigVersion, ConfigVersion.study_id == Study.id)
                .group_by(Study.slug)
            ).all()
        )
    overview = study_overview(ctx)
    for row in rows:
        found = overview.get(row["study_slug"])
        row["version_count"] = int(versions.get(row["study_slug"], 0))
        row["sync_summary"] = sync_summary(found.pop("sync_states") if found else Counter())
        row.update(found or {"per_day": [], "problems": "", "completion_rate": None,
                             "last_sync_at": None})  # fmt: skip
        row["runs_last_7_days"] = sum(row["per_day"][-7:])
    return rows


def _day(value: datetime) -> date:
    return value.astimezone(UTC).date()


# Counted per study in SQL, from indexes (a folder may hold 100,000 runs: bench_scale.py).
_RUNS_BY_STATUS = select(
    RunSession.study_id,
    RunSession.status,
    func.count(),
    func.count(RunSession.interrupted_at),
).group_by(RunSession.study_id, RunSession.status)
# Driven from sync_states (the runs sync has seen), each run's study looked up by its id.
_SYNCED_STUDY = (
    select(RunSession.study_id)
    .where(RunSession.id == SyncState.run_id)
    .scalar_subquery()
    .label("synced_study_id")
)
_SYNC_BY_STATE = select(
    _SYNCED_STUDY, SyncState.state, func.count(), func.max(SyncState.updated_at)
).group_by(literal_column("synced_study_id"), SyncState.state)


def study_overview(
    ctx: Context, days: int = 14, today: date | None = None
) -> dict[str, dict[str, Any]]:
    """Per study, what the overview reads at a glance: runs per day (the last `days` days,
    UTC), how many finished, the last acknowledged sync, what needs attention, and how many
    runs stand in each sync state ("not synced" for runs sync has not seen)."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    out: dict[int, dict[str, Any]] = {}

    def entry(study_id: int) -> dict[str, Any]:
        return out.setdefault(study_id, {
            "per_day": [0] * days, "runs": 0, "completed": 0, "failed": 0, "interrupted": 0,
            "sync_failed": 0, "last_sync_at": None, "sync_states": Counter(),
        })  # fmt: skip

    with ctx.read() as s:
        slugs = dict(s.execute(select(Study.id, Study.slug)).all())
        for study_id, status, n, interrupted in s.execute(_RUNS_BY_STATUS):
            o = entry(study_id)
            o["runs"] += n
            if status == "started":
                o["interrupted"] += interrupted
            elif status in ("completed", "failed"):
                o[status] += n
        recent = select(RunSession.study_id, RunSession.started_at).where(
            RunSession.started_at >= since
        )
        for study_id, started_at in s.execute(recent):
            if first <= _day(started_at) <= today:
                entry(study_id)["per_day"][(_day(started_at) - first).days] += 1
        for study_id, state, n, updated in s.execute(_SYNC_BY_STATE):
            o = entry(study_id)
            o["sync_states"][state] += n
            if state == "failed":
                o["sync_failed"] += n
            if state == "acknowledged" and updated is not None:
                o["last_sync_at"] = updated
    for o in out.values():
        o["sync_states"][NOT_SYNCED] += o["runs"] - sum(o["sync_states"].values())
        finished = o["completed"] + o["failed"] + o["interrupted"]
        o["completion_rate"] = o["completed"] / finished if finished else None
        problems = [
            f"{o[k]} {label}"
            for k, label in (
                ("interrupted", "interrupted"),
                ("failed", "failed"),
                ("sync_failed", "sync failed"),
            )
            if o[k]
        ]
        o["problems"] = ", ".join(problems)
        o["last_sync_at"] = o["last_sync_at"].isoformat() if o["last_sync_at"] else None
    return {slugs[study_id]: o for study_id, o in out.items() if o["runs"]}


def run_state(item: dict[str, Any]) -> str:
    """The status a researcher reads: an interrupted run says so."""
    return "interrupted" if item.get("interrupted") else str(item["status"])


def run_rows(ctx: Context, slug: str) -> list[dict[str, Any]]:
    items = studies.study_runs(ctx, slug, limit=studies.RUNS_MAX_LIMIT)["runs"]
    ids = [r["run_session_id"] for r in items]
    with ctx.read() as s:
        sync = {
            st.run_id: st
            for st in s.scalars(select(SyncState).where(SyncState.run_id.in_(ids))).all()
        }
    for item in items:
        st = sync.get(item["run_session_id"])
        item["state"] = run_state(item)
        item["sync_state"] = st.state if st else NOT_SYNCED
        item["sync_reason"] = st.reason if st else None
    return items


def sync_rows(ctx: Context) -> list[dict[str, Any]]:
    """Every finished run with where it stands with the central server."""
    with ctx.read() as s:
        rows = s.execute(
            select(RunSession, Study.slug, SyncState)
            .join(Study, Study.id == RunSession.study_id)
            .outerjoin(SyncState, SyncState.run_id == RunSession.id)
            .order_by(RunSession.started_at.desc())
            .limit(1000)
        ).all()
        return [
            {
                "run_session_id": run.id,
                "study_slug": slug,
                "status": "interrupted"
                if run.interrupted_at is not None and run.status == "started"
                else run.status,
                "sync_state": st.state if st else NOT_SYNCED,
                "attempts": st.attempts if st else 0,
                "pieces": f"{st.pieces_acked}/{st.pieces_total}" if st else "",
                "remote_run_session_id": st.remote_run_session_id if st else None,
                "reason": (st.reason or "") if st else "",
                "updated_at": st.updated_at.isoformat() if st else None,
            }
            for run, slug, st in rows
        ]


def audit_rows(ctx: Context, limit: int = 1000) -> list[dict[str, Any]]:
    with ctx.read() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()
        return [
            {
                "id": e.id,
                "created_at": e.created_at.isoformat(timespec="seconds"),
                "actor": e.actor,
                "action": e.action,
                "target": e.target or "",
                "outcome": e.outcome,
                "client": e.client or "",
                "details": e.details,
            }
            for e in events
        ]


def verify_audit(ctx: Context) -> audit.ChainReport:
    with ctx.read() as s:
        return audit.verify_chain(s)


def usernames(ctx: Context, first: str = "") -> list[str]:
    """Researcher names for a sign-in box, the last one used first."""
    with ctx.read() as s:
        names = list(s.scalars(select(User.username).order_by(User.username)).all())
    if first in names:
        names.remove(first)
        names.insert(0, first)
    return names
