"""`cogflow-desktop export`: decrypted results to CSV (+ Parquet), JSON, BIDS, Psych-DS or a ZIP.

Decrypting needs a researcher's password (unwraps the install key) and a TOTP code verified
just now, exactly as the app's own results view does. Refusals are audited.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from pathlib import Path
from typing import TextIO

from cogflow_desktop.cli.common import (
    CliError,
    StdinLines,
    add_data_dir,
    open_ctx_or_salvage,
    read_secret,
)
from cogflow_desktop.export import (
    FORMATS,
    ExportOptions,
    ExportProgress,
    audit_refusal,
    export_study,
)
from cogflow_desktop.export.salvage import REPORT_SUFFIX, export_salvaged
from cogflow_desktop.export.salvage_source import (
    UNREADABLE,
    SalvageContext,
)
from cogflow_desktop.services import auth
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import ServiceError

CLIENT = "cli"
TOTP_ENV = "COGFLOW_TOTP_CODE"
PASSWORD_ENV = "COGFLOW_PASSWORD"
# A salvage export that was written but could not read or authenticate everything.
INCOMPLETE_EXIT = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "export",
        help="export decrypted results (csv, json, bids, psychds, zip)",
        description="Export a study's decrypted results for analysis. Needs a researcher's "
        f"password (--password-stdin, else ${PASSWORD_ENV}, else a prompt) and a current TOTP "
        f"code (--totp-code, else ${TOTP_ENV}, else a prompt). Raw participant ids are left "
        "out unless --include-participant-ids is given.",
    )
    p.add_argument("--study", required=True, metavar="SLUG", help="the study to export")
    p.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="ID",
        help="export only this run session (repeat for several; default: every run)",
    )
    p.add_argument("--format", required=True, choices=FORMATS, help="output format")
    p.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="file to write (bids, psychds: a new folder); written only once complete",
    )
    p.add_argument("--user", required=True, metavar="NAME", help="researcher account")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--totp-code", metavar="CODE", help=f"current TOTP code (or ${TOTP_ENV})")
    p.add_argument(
        "--include-participant-ids",
        action="store_true",
        help="also export raw participant ids (audited separately)",
    )
    p.add_argument(
        "--parquet",
        action="store_true",
        help="also write each CSV table as Parquet, typed (csv and zip formats; needs pyarrow)",
    )
    p.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")
    p.add_argument(
        "--salvage",
        action="store_true",
        help="the database failed its integrity check: read a private copy of it and export "
        "every run and trial that still authenticates, with a report (PATH"
        f"{REPORT_SUFFIX}) naming the rest; the damaged file is not written to. Exits with "
        f"status {INCOMPLETE_EXIT} when something could not be read",
    )
    add_data_dir(p)
    p.set_defaults(func=run)


class ProgressBar:
    """A one-line text bar on stderr, redrawn in place."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._last = ""

    def __call__(self, p: ExportProgress) -> None:
        total = p.trials_total or 1
        done = min(p.trials_done, total) if p.trials_total else 0
        filled = int(self.WIDTH * done / total) if p.trials_total else 0
        line = (
            f"\rExporting [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{p.runs_done}/{p.runs_total} runs, {p.trials_done}/{p.trials_total} trials"
        )
        if line != self._last:
            self._stream.write(line)
            self._stream.flush()
            self._last = line

    def close(self) -> None:
        if self._last:
            self._stream.write("\n")
            self._stream.flush()


def _totp_code(args: argparse.Namespace) -> str | None:
    code = args.totp_code or os.environ.get(TOTP_ENV)
    if not code and sys.stdin is not None and sys.stdin.isatty() and not args.password_stdin:
        code = getpass.getpass("TOTP code: ")
    return code.strip() if code else None


def _refuse(ctx: Context, options: ExportOptions, args: argparse.Namespace, reason: str) -> None:
    audit_refusal(ctx, options, reason, actor=args.user, client=CLIENT)


def run(args: argparse.Namespace) -> int:
    options = ExportOptions(
        study_slug=args.study,
        format=args.format,
        out=Path(args.out),
        run_ids=tuple(args.run),
        include_participant_ids=args.include_participant_ids,
        parquet=args.parquet,
    )
    ctx = open_ctx_or_salvage(args, "export", "to export what it still holds")
    try:
        try:
            password = read_secret(
                what=f"password of {args.user}",
                from_stdin=args.password_stdin,
                stdin=StdinLines(),
                env_var=PASSWORD_ENV,
            )
        except CliError as exc:
            _refuse(ctx, options, args, "no password given")
            raise exc
        try:
            login = auth.login(ctx, args.user, password, client=CLIENT)
        except ServiceError as exc:
            _refuse(ctx, options, args, exc.message)
            raise CliError("The username or password is not correct.") from exc
        try:
            return _export(ctx, args, options, login)
        finally:
            # Signing out of a salvage copy that cannot take the write must not hide the export.
            salvage = isinstance(ctx, SalvageContext)
            with contextlib.suppress(*(UNREADABLE if salvage else ())):
                auth.logout(ctx, login.token, client=CLIENT)
    except UNREADABLE as exc:
        if not isinstance(ctx, SalvageContext):
            raise
        # Sign-in itself reads (and records into the copy) accounts and sessions.
        raise CliError(
            f"The accounts or sessions in the damaged database {ctx.damaged_db} cannot be read "
            "or written even in its copy, so no one can sign in to salvage it; restore the "
            "newest good backup."
        ) from exc
    finally:
        ctx.close()


def _export(
    ctx: Context, args: argparse.Namespace, options: ExportOptions, login: auth.LoginResult
) -> int:
    code = _totp_code(args)
    if not code:
        _refuse(ctx, options, args, "no TOTP code given")
        raise CliError(f"An export needs a current TOTP code: pass --totp-code or set {TOTP_ENV}.")
    try:
        auth.verify_code(ctx, login.secrets, code, client=CLIENT)
        auth.require_fresh_mfa(ctx, login.secrets)
    except ServiceError as exc:
        _refuse(ctx, options, args, exc.message)
        raise
    if isinstance(ctx, SalvageContext):
        return _salvage(ctx, options, login)
    bar = None if args.no_progress or not sys.stderr.isatty() else ProgressBar(sys.stderr)
    try:
        result = export_study(
            ctx,
            login.secrets.private_key,
            options,
            actor=login.secrets.username,
            client=CLIENT,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    print(
        f"Exported {result.runs} runs ({result.trials} trials) of {options.study_slug} "
        f"as {result.format} to {result.out}."
    )
    for f in result.files:
        print(f"sha256 {f.sha256}  {f.path}")
    return 0


def _salvage(ctx: SalvageContext, options: ExportOptions, login: auth.LoginResult) -> int:
    salvaged = export_salvaged(ctx, login.secrets.private_key, options)
    result = salvaged.export
    print(
        f"Exported {result.runs} runs ({result.trials} trials) of {options.study_slug} "
        f"as {result.format} to {result.out}."
    )
    for f in result.files:
        print(f"sha256 {f.sha256}  {f.path}")
    print(salvaged.sentence(), file=sys.stderr)
    return 0 if salvaged.complete else INCOMPLETE_EXIT
