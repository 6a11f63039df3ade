"""The Sync page's link to the sync engine (no Qt): which key unlocks the runs, the remote
credentials, and a one-sentence account of how a sync ended."""

from __future__ import annotations

import threading
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from cogflow_desktop.audit_anchor import sync_header
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.services.context import Context
from cogflow_desktop.sync import keystore
from cogflow_desktop.sync.client import CentralClient, Credentials, normalize_url
from cogflow_desktop.sync.engine import ANONYMOUS_REASON, SyncEngine, SyncError
from cogflow_desktop.sync.progress import Progress, SyncReport

UNATTENDED_ACTOR = "unattended-sync"


class SyncProblem(Exception):
    """Sync cannot start; one sentence says what to do."""


def check_target(url: str, username: str, password: str | None) -> str:
    """The normalised server address, or SyncProblem."""
    if not url:
        raise SyncProblem("Type the central server's address first.")
    try:
        server = normalize_url(url)
    except ValueError as exc:
        raise SyncProblem(str(exc)) from exc
    if not username or not password:
        raise SyncProblem(
            f"Type your username and password for the central server first: {ANONYMOUS_REASON}."
        )
    return server


def unlocking_key(
    ctx: Context, session: ResearcherSession, server: str
) -> tuple[X25519PrivateKey, str]:
    """The signed-in researcher's key, else the unattended one from the OS keyring (which
    opens only for the server automatic sync was turned on for)."""
    found = session.secrets
    if found is not None:
        return found.private_key, found.username
    if keystore.is_enabled(ctx):
        try:
            return keystore.unlock(ctx, server), UNATTENDED_ACTOR
        except keystore.KeystoreError as exc:
            raise SyncProblem(str(exc)) from exc
    raise SyncProblem(
        "Sync needs the results unlocked: sign in with your password, or turn on automatic sync."
    )


def enable_unattended(ctx: Context, session: ResearcherSession, url: str) -> None:
    """Keep the install key in the OS keyring so the timer can sync with nobody signed in,
    to this server only."""
    found = session.secrets
    if found is None:
        raise SyncProblem("Sign in with your password first to turn on automatic sync.")
    if not url:
        raise SyncProblem("Type the central server's address first.")
    try:
        server = normalize_url(url)
    except ValueError as exc:
        raise SyncProblem(str(exc)) from exc
    try:
        keystore.enable(ctx, found.private_key, actor=found.username, server_url=server)
    except keystore.KeystoreError as exc:
        raise SyncProblem(str(exc)) from exc


def disable_unattended(ctx: Context, actor: str) -> None:
    try:
        keystore.disable(ctx, actor=actor)
    except keystore.KeystoreError as exc:
        raise SyncProblem(str(exc)) from exc


def run_sync(
    ctx: Context,
    server: str,
    credentials: Credentials,
    key: X25519PrivateKey,
    actor: str,
    progress: Callable[[Progress], None],
    cancel: threading.Event,
) -> SyncReport:
    client = CentralClient(
        server, credentials=credentials, extra_headers=sync_header(ctx.settings.data_dir)
    )
    try:
        engine = SyncEngine(ctx, client, key, actor=actor, progress=progress, cancel=cancel)
        return engine.run()
    except SyncError as exc:
        raise SyncProblem(str(exc)) from exc
    finally:
        client.close()


def describe(report: SyncReport) -> str:
    if report.runs_total == 0:
        return f"Nothing to send to {report.server_url}: every run is acknowledged."
    parts = [f"{report.acknowledged} acknowledged"]
    if report.failed:
        parts.append(f"{len(report.failed)} failed (see the reasons below)")
    if report.cancelled:
        parts.append(f"{report.cancelled} not finished (cancelled)")
    text = f"Synced {report.runs_total} run(s) to {report.server_url}: {', '.join(parts)}."
    for run_id, other in report.elsewhere:
        text += f" Run {run_id[:8]} was begun on {other}; sync to that server to finish it."
    return text
