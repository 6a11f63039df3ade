"""`sync --salvage`: send what a damaged database still holds whole, from a private copy.

The sync runs on the salvage copy (export/salvage_source.open_salvage_copy: SQLite never
opens the damaged file). A run is sent only when it passes its integrity check against its
sealed manifest and every one of its trials authenticates: the central server takes a
submitted run as complete, so a run missing trials is left out and named, never sent short.
Sync state is recorded in the copy (so the engine works as always) and, for each run the
server started or acknowledged, in the ledger beside the database (sync/sent_ledger.py), so a
later sync, after a restore or a second salvage, does not send it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from cogflow_desktop.export.salvage import describe_loss, short_loss
from cogflow_desktop.export.salvage_source import (
    UNREADABLE,
    RunSalvage,
    SalvageContext,
    salvage_run,
    salvage_runs,
)
from cogflow_desktop.export.source import select_runs
from cogflow_desktop.security import files
from cogflow_desktop.services.context import _mark_interrupted_runs as mark_interrupted_runs
from cogflow_desktop.services.errors import Corrupted
from cogflow_desktop.store.models import RunSession, Study
from cogflow_desktop.sync import sent_ledger, state
from cogflow_desktop.sync.progress import Progress, ProgressCallback, SyncReport

REPORT_PREFIX = "sync-salvage-report-"


@dataclass
class SalvagePlan:
    server_url: str
    due: list[str]  # runs the copy's sync state says are not acknowledged there
    sendable: list[str]  # of those, the ones that are whole
    left_out: list[RunSalvage] = field(default_factory=list)


@dataclass(frozen=True)
class SalvageSyncResult:
    plan: SalvagePlan
    report: SyncReport
    report_path: Path
    ledger: Path

    @property
    def complete(self) -> bool:
        return not self.plan.left_out

    def sentence(self) -> str:
        """One sentence for stderr."""
        plan = self.plan
        said = (
            f"Sent {self.report.acknowledged} of {len(plan.due)} unsynced runs from the damaged "
            f"database to {plan.server_url}"
        )
        if plan.left_out:
            named = ", ".join(f"run {r.run_id} ({short_loss(r)})" for r in plan.left_out)
            said += f"; left out, as not every trial could be read and authenticated: {named}"
        if self.report.failed:
            said += f"; {len(self.report.failed)} failed on the way (listed above)"
        return (
            f"{said}; the damaged database cannot record what was sent, so {self.ledger} does: "
            "keep it, and after restoring a backup sync reads it and sends none of them again; "
            f"details in {self.report_path}."
        )


def plan(
    ctx: SalvageContext,
    private_key: X25519PrivateKey,
    server_url: str,
    *,
    actor: str,
    retry_failed: bool = False,
    interrupted_quiet_seconds: float = 600.0,
) -> SalvagePlan:
    """Which of the copy's unsynced runs are whole (sendable), and which are not, and why."""
    try:
        sent_ledger.adopt(ctx, server_url, actor)  # a second salvage sends nothing twice
        # As opening the folder normally would: runs the stopped process left open are flagged
        # interrupted (in the copy), so they are sent as failed with every trial, not skipped.
        mark_interrupted_runs(ctx)
        due = state.due_runs(
            ctx,
            server_url,
            retry_failed=retry_failed,
            interrupted_quiet_seconds=interrupted_quiet_seconds,
        ).run_ids
    except UNREADABLE as exc:
        raise Corrupted(
            f"The list of runs in the damaged database {ctx.damaged_db} cannot be read even in "
            "its copy, so nothing could be sent; restore the newest good backup."
        ) from exc
    found = SalvagePlan(server_url, due, [])
    by_study: dict[str, list[str]] = {}
    # Rolled back, never committed (SQLite may refuse to commit after a damaged page).
    with ctx.reader() as s:
        for i in range(0, len(due), 500):
            rows = s.execute(
                select(RunSession.id, Study.slug)
                .join(Study, Study.id == RunSession.study_id)
                .where(RunSession.id.in_(due[i : i + 500]))
            ).all()
            for run_id, slug in rows:
                by_study.setdefault(str(slug), []).append(str(run_id))
        for slug, run_ids in by_study.items():
            sel = select_runs(s, slug, tuple(run_ids))
            for row in salvage_runs(s, sel):
                run = salvage_run(s, sel, row, private_key, False)
                if run.complete:
                    found.sendable.append(run.run_id)
                else:
                    found.left_out.append(run)
                s.expunge_all()
    order = {run_id: n for n, run_id in enumerate(due)}
    found.sendable.sort(key=order.__getitem__)
    return found


def ledger_keeper(
    ctx: SalvageContext, server_url: str, progress: ProgressCallback | None
) -> ProgressCallback:
    """A progress callback for the engine that writes each run to the ledger the moment the
    server started it and again once it acknowledged it, then passes the progress on."""
    ledger = sent_ledger.ledger_path(ctx)

    def watch(p: Progress) -> None:
        if p.run_id is not None and p.state in (state.STARTED_REMOTE, state.ACKNOWLEDGED):
            sent_ledger.write_entry(ledger, state.load(ctx, p.run_id), server_url)
        if progress is not None:
            progress(p)

    return watch


def finish(ctx: SalvageContext, found: SalvagePlan, report: SyncReport) -> SalvageSyncResult:
    """Write the report file beside the database; the result with its sentence."""
    assert ctx.damaged_db is not None
    now = datetime.now(UTC)
    path = ctx.damaged_db.parent / f"{REPORT_PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}.txt"
    ledger = sent_ledger.ledger_path(ctx)
    result = SalvageSyncResult(found, report, path, ledger)
    lines = [
        "CogFlow Desktop salvage sync",
        "",
        f"Made:      {now.strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"Database:  {ctx.damaged_db} (damaged: {ctx.problem}; read from a private copy, "
        "the file itself was not written to)",
        f"Server:    {found.server_url}",
        f"Sent:      {report.acknowledged} of {len(found.due)} runs not yet synced there. Every "
        "run sent passed its integrity check and every one of its trials authenticated.",
        "",
    ]
    if found.left_out:
        lines.append(
            "Not sent (the central server would take a run with missing trials as complete):"
        )
        lines.extend(f"- run {r.run_id}: {describe_loss(r)}" for r in found.left_out)
    else:
        lines.append("Every unsynced run was whole and was offered to the server.")
    if report.failed:
        lines.append("")
        lines.append("Failed on the way (sent again by the next sync):")
        lines.extend(f"- run {f.run_session_id}: {f.reason}" for f in report.failed)
    lines += [
        "",
        f"The damaged database cannot record what was sent; {ledger} does. Every sync (from the",
        "app or the command line) reads it first, so after restoring a backup none of these",
        "runs is sent again (the central server would otherwise store them twice). Keep it.",
        "This sync is not in the database's audit log; this report is its record.",
        "",
    ]
    files.write_private(path, "\n".join(lines).encode("utf-8"))
    return result
