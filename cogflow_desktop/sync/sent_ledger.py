"""Runs sent while the database could not record it: a small file beside the database.

`sync --salvage` sends from a private copy of a damaged database, so the database itself never
learns that a run was started or acknowledged on the central server. The central server does
not recognise a run sent twice (`runs/start` makes a new run every time; checked against the
central-like test server in tests/sync/central_server.py), so after a restore the same run
would arrive twice. This ledger closes that gap: salvage sync writes each run's remote id the
moment the server started it and again once it acknowledged it, and every sync (salvage or
not, from the app or the command line) first adopts the ledger into the database it works on:
an acknowledged run is recorded as acknowledged (not sent again), a run only started is
recorded as started (sync resumes that remote run instead of starting another).

The file holds run ids and the server's ids, nothing sealed or personal; it is owner-only,
written atomically, and never deleted by the app (keep it until every run in it is synced).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cogflow_desktop.security import files
from cogflow_desktop.services.context import Context
from cogflow_desktop.store.models import RunSession
from cogflow_desktop.sync import state

LEDGER_NAME = "sync-sent-from-damaged-database.json"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Sent:
    run_id: str
    server_url: str
    remote_run_session_id: str
    remote_study_slug: str
    remote_config_label: str
    remote_config_version_id: str | None
    state: str  # started_remote | acknowledged
    at: str


def ledger_path(ctx: Context) -> Path:
    """Beside the real database, also when ctx is a salvage copy of it."""
    damaged = getattr(ctx, "damaged_db", None)
    folder = damaged.parent if isinstance(damaged, Path) else ctx.settings.data_dir
    return folder / LEDGER_NAME


class LedgerUnreadable(Exception):
    """The ledger exists but cannot be read: sync stops rather than risk sending a run twice."""


def read_ledger(path: Path) -> dict[str, Sent]:
    """The newest entry per (server, run)."""
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        found: dict[str, Sent] = {}
        for item in raw.get("runs", []):
            sent = Sent(**item)
            found[f"{sent.server_url} {sent.run_id}"] = sent
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise LedgerUnreadable(
            f"The file {path}, which lists the runs sent from a damaged database, cannot be "
            f"read ({exc}), so sync stops rather than risk sending a run twice; repair it or "
            "move it aside if those runs are known to be on the server."
        ) from exc
    return found


def write_entry(path: Path, snap: state.Snapshot, server_url: str) -> None:
    """Record what the (salvage copy's) sync state says of a run, durably, before going on."""
    if snap.remote_run_session_id is None:
        return
    sent = Sent(
        run_id=snap.run_id,
        server_url=server_url,
        remote_run_session_id=snap.remote_run_session_id,
        remote_study_slug=snap.remote_study_slug or "",
        remote_config_label=snap.remote_config_label or "",
        remote_config_version_id=snap.remote_config_version_id,
        state=state.ACKNOWLEDGED if snap.state == state.ACKNOWLEDGED else state.STARTED_REMOTE,
        at=datetime.now(UTC).isoformat(),
    )
    with _LOCK:
        entries = read_ledger(path)
        entries[f"{sent.server_url} {sent.run_id}"] = sent
        body: dict[str, Any] = {
            "about": "Runs sent to a central server from a damaged database's copy; every "
            "sync reads this so that none is sent twice. Keep this file.",
            "runs": [asdict(e) for e in entries.values()],
        }
        files.write_private(path, json.dumps(body, indent=1).encode("utf-8"))


def adopt(ctx: Context, server_url: str, actor: str) -> list[str]:
    """Record in ctx's database what the ledger says was sent to `server_url`; the run ids
    adopted. Runs the database does not hold, or already sent there under another remote id,
    are left as they are."""
    entries = [e for e in read_ledger(ledger_path(ctx)).values() if e.server_url == server_url]
    if not entries:
        return []
    with ctx.read() as s:
        held = set(
            s.scalars(select(RunSession.id).where(RunSession.id.in_([e.run_id for e in entries])))
        )
    adopted: list[str] = []
    for entry in entries:
        if entry.run_id not in held:
            continue
        snap = state.load(ctx, entry.run_id)
        if snap.state == state.ACKNOWLEDGED:
            continue
        if snap.remote_run_session_id not in (None, entry.remote_run_session_id):
            continue
        if snap.remote_run_session_id is None:
            state.record_started(
                ctx,
                entry.run_id,
                server_url,
                entry.remote_run_session_id,
                entry.remote_study_slug,
                entry.remote_config_label,
                entry.remote_config_version_id,
            )
        if entry.state == state.ACKNOWLEDGED:
            state.record_acknowledged(
                ctx,
                entry.run_id,
                pieces=0,
                actor=actor,
                server_url=server_url,
                details={"sent_from_damaged_database": True, "at": entry.at},
            )
        adopted.append(entry.run_id)
    return adopted
