"""The export use case, shared by the CLI and the Qt app: stream, write atomically, audit.

The caller proves who it is first (the CLI: password + TOTP; the app: its MFA-fresh session)
and hands over the unlocked install private key. Every export, every refusal and every failure
is written to the audit log; asking for raw participant ids is audited on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.orm import Session

from cogflow_desktop import audit
from cogflow_desktop.export.bids_format import BidsSink
from cogflow_desktop.export.csv_format import CsvSink
from cogflow_desktop.export.json_format import JsonSink
from cogflow_desktop.export.options import (
    FOLDER_FORMATS,
    FORMATS,
    PARQUET_FORMATS,
    CancelFn,
    ExportCancelled,
    ExportOptions,
    ExportProgress,
    ExportResult,
    ProgressFn,
    WrittenFile,
)
from cogflow_desktop.export.parquet import require_pyarrow
from cogflow_desktop.export.psychds_format import PsychDsSink
from cogflow_desktop.export.sink import Sink
from cogflow_desktop.export.source import (
    Selection,
    iter_run_pages,
    load_run,
    read_secrets,
    select_runs,
)
from cogflow_desktop.export.zip_format import ZipSink
from cogflow_desktop.security.envelopes import DecryptionError
from cogflow_desktop.services import auth, results
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import BadRequest, Corrupted, ServiceError
from cogflow_desktop.services.vault import SessionSecrets

EXPORT_ACTION = "results.export"
PARTICIPANT_IDS_ACTION = "results.export_participant_ids"
BATCH = 1000


def export_study(
    ctx: Context,
    private_key: X25519PrivateKey,
    options: ExportOptions,
    *,
    actor: str,
    client: str = "app",
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> ExportResult:
    """Export the study's runs (or the named ones) in one format to `options.out`.

    Raises ServiceError (plain sentence) or ExportCancelled; in every case nothing is left
    under the target name unless the export completed.
    """
    try:
        out = _check(options)
    except ServiceError as exc:
        # A bad path is a failure, not a security refusal (those are audited as denied).
        _audit_failure(ctx, options, Path(options.out), exc, actor=actor, client=client)
        raise
    if options.include_participant_ids:
        with ctx.write() as s:
            audit.record(
                s,
                PARTICIPANT_IDS_ACTION,
                actor=actor,
                client=client,
                target=options.study_slug,
                details={"format": options.format, "out": str(out)},
            )
    try:
        result = _run(ctx, private_key, options, out, progress, cancelled)
    except BaseException as exc:
        _audit_failure(ctx, options, out, exc, actor=actor, client=client)
        raise _plain(exc, out) from exc
    with ctx.write() as s:
        audit.record(
            s,
            EXPORT_ACTION,
            actor=actor,
            client=client,
            target=options.study_slug,
            details={
                **_what(options, out),
                "runs": result.runs,
                "trials": result.trials,
                "files": [_file_details(f) for f in result.files],
            },
        )
    return result


def export_for_session(
    ctx: Context,
    session: SessionSecrets,
    options: ExportOptions,
    *,
    client: str = "app",
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> ExportResult:
    """The app's entry point: a logged-in session whose TOTP check is still fresh; anything
    less is refused (and audited) before a single row is decrypted."""
    try:
        auth.require_fresh_mfa(ctx, session)
    except ServiceError as exc:
        audit_refusal(ctx, options, exc.message, actor=session.username, client=client)
        raise
    return export_study(
        ctx,
        session.private_key,
        options,
        actor=session.username,
        client=client,
        progress=progress,
        cancelled=cancelled,
    )


def audit_refusal(
    ctx: Context, options: ExportOptions, reason: str, *, actor: str, client: str
) -> None:
    """Record an export that was refused before it began (no TOTP code, wrong password...)."""
    with ctx.write() as s:
        audit.record(
            s,
            EXPORT_ACTION,
            actor=actor,
            client=client,
            target=options.study_slug,
            outcome="denied",
            details={**_what(options, options.out), "reason": reason},
        )


def _check(options: ExportOptions) -> Path:
    if options.format not in FORMATS:
        raise BadRequest(f"Unknown export format {options.format!r}; use {', '.join(FORMATS)}.")
    out = Path(options.out).expanduser().absolute()
    if not out.parent.is_dir():
        raise BadRequest(f"The folder {out.parent} does not exist.")
    if out.is_dir() and options.format not in FOLDER_FORMATS:
        raise BadRequest(f"{out} is a folder; give a file name to export to.")
    if options.format in FOLDER_FORMATS and out.exists():
        kind = "A BIDS" if options.format == "bids" else "A Psych-DS"
        raise BadRequest(f"{out} already exists; {kind} export needs a new folder name.")
    if options.parquet:
        if options.format not in PARQUET_FORMATS:
            raise BadRequest(
                f"Parquet files are written beside CSV tables, so --parquet needs the csv or "
                f"zip format, not {options.format}."
            )
        require_pyarrow()
    return out


def _make_sink(options: ExportOptions, out: Path, sel: Selection) -> Sink:
    ids = options.include_participant_ids
    slug, name = sel.study_slug, sel.study_name
    if options.format == "csv":
        return CsvSink(out, include_participant_ids=ids, parquet=options.parquet)
    if options.format == "json":
        return JsonSink(out, study_slug=slug, include_participant_ids=ids)
    if options.format == "bids":
        return BidsSink(out, study_slug=slug, study_name=name, include_ids=ids)
    if options.format == "psychds":
        return PsychDsSink(out, study_slug=slug, study_name=name, include_participant_ids=ids)
    return ZipSink(
        out, study_slug=slug, study_name=name, include_participant_ids=ids, parquet=options.parquet
    )


def _run(
    ctx: Context,
    private_key: X25519PrivateKey,
    options: ExportOptions,
    out: Path,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
) -> ExportResult:
    # One read transaction: a consistent snapshot even while runs are being recorded.
    with ctx.read() as s:
        sel = select_runs(s, options.study_slug, options.run_ids)
        sink = _make_sink(options, out, sel)
        try:
            runs, trials = _stream(s, sel, sink, private_key, options, progress, cancelled)
            files = sink.finish()
        except BaseException:
            sink.abort()
            raise
    return ExportResult(options.format, out, runs, trials, files)


def _stream(
    s: Session,
    sel: Selection,
    sink: Sink,
    private_key: X25519PrivateKey,
    options: ExportOptions,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
) -> tuple[int, int]:
    runs = trials = 0

    def report() -> None:
        if cancelled is not None and cancelled():
            raise ExportCancelled("The export was cancelled.")
        if progress is not None:
            progress(ExportProgress(runs, sel.runs_total, trials, sel.trials_total))

    report()
    ids = options.include_participant_ids
    for page in iter_run_pages(s, sel):
        secrets = read_secrets(s, [row.id for row in page])
        for row in page:
            found = secrets.pop(row.id)
            keys = results.RunKeys(s, private_key, row.id, found.sealed_keys)
            results.check_run(s, keys, row.id)  # a tampered run stops the export (audited)
            sink.begin_run(load_run(s, sel, keys, private_key, row, ids, found))
            for batch in results.trial_pages(s, keys, row.id, BATCH):
                sink.add_trials(batch)
                trials += len(batch)
                report()
            sink.end_run()
            runs += 1
            report()
        s.expunge_all()  # keep the session's identity map from growing page by page
    return runs, trials


def _what(options: ExportOptions, out: Path) -> dict[str, Any]:
    return {
        "format": options.format,
        "study_slug": options.study_slug,
        "run_session_ids": list(options.run_ids) or "all",
        "include_participant_ids": options.include_participant_ids,
        "parquet": options.parquet,
        "out": str(out),
    }


def _file_details(f: WrittenFile) -> dict[str, Any]:
    return {"path": f.path, "bytes": f.bytes, "sha256": f.sha256}


def _audit_failure(
    ctx: Context, options: ExportOptions, out: Path, exc: BaseException, *, actor: str, client: str
) -> None:
    reason = str(_plain(exc, out))
    outcome = "cancelled" if isinstance(exc, (ExportCancelled, KeyboardInterrupt)) else "failed"
    try:
        with ctx.write() as s:
            audit.record(
                s,
                EXPORT_ACTION,
                actor=actor,
                client=client,
                target=options.study_slug,
                outcome=outcome,
                details={**_what(options, out), "reason": reason},
            )
    except Exception:  # the export's own error is the one to report
        pass


def _plain(exc: BaseException, out: Path) -> BaseException:
    """The error a user sees: one plain sentence."""
    if isinstance(exc, (ServiceError, ExportCancelled, KeyboardInterrupt)):
        return exc
    if isinstance(exc, DecryptionError):
        return Corrupted(
            "The stored data of a run failed its integrity check, so the export stopped."
        )
    if isinstance(exc, FileExistsError):
        return BadRequest(f"{out} already exists; choose another name.")
    if isinstance(exc, OSError):
        return BadRequest(f"The export could not be written: {exc.strerror or exc}.")
    return exc
