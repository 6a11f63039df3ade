"""`cogflow-desktop sync ...`: push runs to the central server, show where each run stands,
and turn unattended sync on or off."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any

from cogflow_desktop import audit_anchor
from cogflow_desktop.cli.common import (
    CliError,
    StdinLines,
    add_data_dir,
    open_ctx,
    open_ctx_or_salvage,
    read_secret,
)
from cogflow_desktop.export.salvage_source import UNREADABLE, SalvageContext
from cogflow_desktop.services import users
from cogflow_desktop.services.errors import ServiceError
from cogflow_desktop.sync import keystore, sent_ledger, state
from cogflow_desktop.sync import salvage as salvage_sync
from cogflow_desktop.sync.client import (
    INSECURE_HTTP_WARNING,
    CentralClient,
    Credentials,
    is_loopback,
    normalize_url,
)
from cogflow_desktop.sync.engine import ANONYMOUS_REASON, SyncEngine, SyncError, SyncOptions
from cogflow_desktop.sync.progress import Progress, SyncReport

UNATTENDED_ACTOR = "unattended-sync"
# A salvage sync that had to leave a run out (as `export --salvage`).
INCOMPLETE_EXIT = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sync",
        help="send runs to the central CogFlow server",
        description="Send every finished or interrupted run that the central server has not "
        "acknowledged yet, once each, resuming where an earlier sync stopped. Unlocking the "
        "results needs a researcher's password (--user; password from --password-stdin or "
        "COGFLOW_PASSWORD) or unattended mode. Sync always logs in to the central server as a "
        "researcher there (--remote-user; password in COGFLOW_REMOTE_PASSWORD or on the next "
        "stdin line), so that the studies it creates there have an owner.",
    )
    p.add_argument(
        "--server",
        metavar="URL",
        default=os.environ.get("COGFLOW_SYNC_SERVER"),
        help="the central server, e.g. https://cogflow.example.org ($COGFLOW_SYNC_SERVER)",
    )
    p.add_argument("--user", metavar="NAME", help="researcher whose password unlocks results")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the researcher's password (then the remote password) from stdin",
    )
    p.add_argument(
        "--remote-user",
        metavar="NAME",
        default=os.environ.get("COGFLOW_REMOTE_USER"),
        help="your researcher account on the central server (required; $COGFLOW_REMOTE_USER)",
    )
    p.add_argument(
        "--remote-basic",
        action="store_true",
        help="send the remote credentials as HTTP Basic instead of a session login",
    )
    p.add_argument(
        "--unattended", action="store_true", help="unlock with the key kept in the OS keyring"
    )
    p.add_argument("--workers", type=int, default=4, help="runs sent in parallel (default 4)")
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for each answer (default 60)"
    )
    p.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain http:// server on another computer (results and passwords cross "
        "the network unencrypted; a warning is shown)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="also retry runs the server refused before (e.g. after fixing the study there)",
    )
    p.add_argument(
        "--salvage",
        action="store_true",
        help="the database failed its integrity check: read a private copy of it and send "
        "every run that is whole (passes its integrity check, every trial authenticates); "
        "the rest are named in a report, the damaged file is not written to, and what was "
        f"sent is kept in {sent_ledger.LEDGER_NAME} so that no run is sent twice. Exits with "
        f"status {INCOMPLETE_EXIT} when a run had to be left out",
    )
    add_data_dir(p)
    p.set_defaults(func=run_sync)
    ssub = p.add_subparsers(dest="sync_command", metavar="COMMAND")

    st = ssub.add_parser(
        "status",
        help="where each run stands with the central server",
        description="List every run with when it really ran and its sync state: pending, "
        "started remotely, sending trials (k of n), acknowledged, or failed with the reason; "
        "then which central account owns each study synced.",
    )
    st.add_argument("--json", action="store_true", help="print JSON instead of a table")
    st.add_argument("--state", choices=[*state.STATES, state.RECORDING], help="only this state")
    add_data_dir(st)
    st.set_defaults(func=show_status)

    un = ssub.add_parser(
        "unattended",
        help="keep the install key in the OS keyring for unattended sync",
        description="Turn unattended sync on (needs a researcher's password) or off.",
    )
    un.add_argument("switch", choices=["on", "off"])
    un.add_argument("--user", metavar="NAME", help="researcher whose password unlocks the key")
    un.add_argument(
        "--server",
        metavar="URL",
        default=os.environ.get("COGFLOW_SYNC_SERVER"),
        help="the only server unattended sync may send to ($COGFLOW_SYNC_SERVER)",
    )
    un.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain http:// server on another computer",
    )
    un.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add_data_dir(un)
    un.set_defaults(func=switch_unattended)


# --- sync -----------------------------------------------------------------------------------


def _remote_credentials(args: argparse.Namespace, stdin: StdinLines) -> Credentials:
    password = os.environ.get("COGFLOW_REMOTE_PASSWORD")
    if not password:
        password = read_secret(
            what=f"password of {args.remote_user} on the central server",
            from_stdin=args.password_stdin,
            stdin=stdin,
            env_var="COGFLOW_REMOTE_PASSWORD",
        )
    return Credentials(args.remote_user, password, basic=args.remote_basic)


def run_sync(args: argparse.Namespace) -> int:
    if not args.server:
        raise CliError("Say which server to sync to with --server URL (or COGFLOW_SYNC_SERVER).")
    server = _server(args)
    if args.workers < 1 or args.workers > 32:
        raise CliError("--workers must be between 1 and 32.")
    if not args.unattended and not args.user:
        raise CliError("Say whose password unlocks the results with --user, or use --unattended.")
    if not args.remote_user:
        raise CliError(
            "Say which researcher account to log in to the central server with, using "
            f"--remote-user NAME: {ANONYMOUS_REASON}."
        )
    ctx = open_ctx_or_salvage(args, "sync", "to send the runs it still holds whole")
    try:
        stdin = StdinLines()
        if args.unattended:
            try:
                key = keystore.unlock(ctx, server)
            except keystore.KeystoreError as exc:
                raise CliError(str(exc)) from exc
            if ctx.anchor is not None:  # a researcher key is here: anchor what sync audits
                ctx.anchor.arm(key)
            actor = UNATTENDED_ACTOR
        else:
            password = read_secret(
                what=f"password of {args.user}",
                from_stdin=args.password_stdin,
                stdin=stdin,
                env_var="COGFLOW_PASSWORD",
            )
            key = users.unlock_with_password(ctx, args.user, password)
            actor = args.user
        client = CentralClient(
            server,
            credentials=_remote_credentials(args, stdin),
            timeout=(min(10.0, args.timeout), args.timeout),
            allow_insecure_http=args.allow_insecure_http,
            extra_headers=audit_anchor.sync_header(sent_ledger.ledger_path(ctx).parent),
        )
        bar = ProgressBar(sys.stderr)
        options = SyncOptions(workers=args.workers, retry_failed=args.retry_failed)
        if isinstance(ctx, SalvageContext):
            return _salvage(ctx, client, key, actor, options, bar)
        engine = SyncEngine(ctx, client, key, actor=actor, options=options, progress=bar.update)
        report = _run_cancellable(engine)
        bar.finish()
        _print_report(report)
        return 0 if report.ok else 1
    except UNREADABLE as exc:
        if not isinstance(ctx, SalvageContext):
            raise
        raise CliError(
            f"The damaged database {ctx.damaged_db} could not be read or written even in its "
            "copy (its accounts, keys or sync state), so nothing more could be sent; restore "
            "the newest good backup."
        ) from exc
    finally:
        ctx.close()


def _salvage(
    ctx: SalvageContext,
    client: CentralClient,
    key: Any,
    actor: str,
    options: SyncOptions,
    bar: ProgressBar,
) -> int:
    try:
        found = salvage_sync.plan(
            ctx,
            key,
            client.base_url,
            actor=actor,
            retry_failed=options.retry_failed,
            interrupted_quiet_seconds=options.interrupted_quiet_seconds,
        )
    except ServiceError as exc:
        raise CliError(exc.message) from exc
    except sent_ledger.LedgerUnreadable as exc:
        raise CliError(str(exc)) from exc
    engine = SyncEngine(
        ctx,
        client,
        key,
        actor=actor,
        options=options,
        progress=salvage_sync.ledger_keeper(ctx, client.base_url, bar.update),
    )
    report = _run_cancellable(engine, found.sendable)
    bar.finish()
    _print_report(report)
    result = salvage_sync.finish(ctx, found, report)
    print(result.sentence(), file=sys.stderr)
    if not result.complete:
        return INCOMPLETE_EXIT
    return 0 if report.ok else 1


def _server(args: argparse.Namespace) -> str:
    """The normalized server address; refused with credentials in it, or as plain http to
    another computer without --allow-insecure-http (then warned about)."""
    try:
        server = normalize_url(args.server, allow_insecure_http=args.allow_insecure_http)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if server.startswith("http://") and not is_loopback(server):
        print(INSECURE_HTTP_WARNING.format(url=server), file=sys.stderr, flush=True)
    return server


def _run_cancellable(engine: SyncEngine, run_ids: list[str] | None = None) -> SyncReport:
    """Run on a worker thread so Ctrl+C can ask the engine to stop after the current requests
    (every run keeps the step it reached)."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["report"] = engine.run(run_ids)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="cogflow-sync-main", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        print("\nStopping after the requests in flight...", file=sys.stderr, flush=True)
        engine.cancel.set()
        thread.join()
    error = outcome.get("error")
    if isinstance(error, SyncError):
        raise CliError(str(error))
    if error is not None:
        raise error
    return outcome["report"]


def _print_report(report: SyncReport) -> None:
    for run_id, server in report.elsewhere:
        print(f"Run {run_id} was begun on {server}; sync to that server to finish it.")
    for failure in report.failed:
        later = "will be retried" if failure.retryable else "refused"
        print(f"Run {failure.run_session_id} failed ({later}): {failure.reason}")
    if report.runs_total == 0:
        print(f"Nothing to send to {report.server_url}: every run is acknowledged.")
        return
    parts = [f"{report.acknowledged} acknowledged"]
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    if report.cancelled:
        parts.append(f"{report.cancelled} not finished (cancelled)")
    print(
        f"Synced {report.runs_total} run(s) to {report.server_url}: {', '.join(parts)}; "
        f"{_size(report.bytes_sent)} sent."
    )


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)


class ProgressBar:
    """A one-line bar on a terminal; silent when stderr is not one (logs, pipes)."""

    def __init__(self, stream: Any, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._last = 0.0
        self._lock = threading.Lock()

    def update(self, p: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last < 0.1 and p.runs_done < p.runs_total:
                return
            self._last = now
            frac = p.runs_done / p.runs_total if p.runs_total else 1.0
            filled = int(frac * self.width)
            line = (
                f"\r[{'#' * filled}{'.' * (self.width - filled)}] {p.runs_done}/{p.runs_total} "
                f"runs, {_size(p.bytes_done)} of {_size(p.bytes_total)}"
            )
            self.stream.write(line.ljust(79))
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


# --- status ---------------------------------------------------------------------------------


def describe(row: state.StatusRow) -> str:
    if row.state == state.STARTED_REMOTE:
        return "started remotely"
    if row.state == state.SENDING:
        return f"sending trials ({row.pieces_acked} of {row.pieces_total})"
    if row.state == state.FAILED:
        return "failed (will retry)" if row.retryable else "failed"
    if row.state == state.RECORDING:
        return "recording (not ready)"
    return row.state


def show_status(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        rows = state.status_rows(ctx)
        central = state.central_studies(ctx)
    finally:
        ctx.close()
    if args.state:
        rows = [r for r in rows if r.state == args.state]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    if args.json:
        print(
            json.dumps(
                {
                    "counts": counts,
                    "runs": [r.as_json() for r in rows],
                    "studies": [c.as_json() for c in central],
                },
                indent=2,
            )
        )
        return 0
    if not rows:
        print("No runs.")
        return 0
    table = [
        ("RUN", "STUDY", "STARTED (UTC)", "RUN STATUS", "SYNC", "REMOTE RUN", "TRIES", "REASON")
    ]
    for r in rows:
        table.append(
            (
                r.run_session_id,
                r.study_slug,
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.run_status,
                describe(r),
                r.remote_run_session_id or "-",
                str(r.attempts),
                r.reason or "",
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
    for line in table:
        cells = [cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True)]
        print("  ".join([*cells, line[-1]]).rstrip())
    if central:
        print()
        print(
            "On the central server (its Started column shows when a run was synced; STARTED "
            "above is when it ran):"
        )
        for study in central:
            print(f"  {study.owner_sentence()}")
    print("; ".join(f"{n} {name.replace('_', ' ')}" for name, n in sorted(counts.items())))
    return 0


# --- unattended -----------------------------------------------------------------------------


def switch_unattended(args: argparse.Namespace) -> int:
    ctx = open_ctx(args)
    try:
        if args.switch == "off":
            try:
                keystore.disable(ctx, actor=args.user or "cli")
            except keystore.KeystoreError as exc:
                raise CliError(str(exc)) from exc
            print("Unattended sync is off; the key copy in the OS keyring is deleted.")
            return 0
        if not args.user:
            raise CliError("Say whose password unlocks the install key with --user.")
        if not keystore.backend_available():
            raise CliError(
                "No OS keyring is available on this computer (such as Windows Credential "
                "Manager, macOS Keychain or a Secret Service), so unattended sync cannot be "
                "turned on."
            )
        if not args.server:
            raise CliError(
                "Say which server unattended sync may send to with --server URL (or "
                "COGFLOW_SYNC_SERVER): it will send to that server only."
            )
        server = _server(args)
        password = read_secret(
            what=f"password of {args.user}",
            from_stdin=args.password_stdin,
            stdin=StdinLines(),
            env_var="COGFLOW_PASSWORD",
        )
        key = users.unlock_with_password(ctx, args.user, password)
        try:
            keystore.enable(ctx, key, actor=args.user, server_url=server)
        except keystore.KeystoreError as exc:
            raise CliError(str(exc)) from exc
        print(
            f"Unattended sync is on for {server} (and no other server): "
            f"`cogflow-desktop sync --unattended --server {server}` needs no password now."
        )
        return 0
    finally:
        ctx.close()
