"""Salvage export: what a damaged database still holds, written in any export format, with a
report naming every run and trial that could not be read or authenticated, and why.

The caller opens the damaged database's private copy (salvage_source.open_salvage_copy) and
proves who it is exactly as for any export (password + a TOTP code verified just now). Runs
are read one at a time, each fully before it reaches the format writer, so a run is either in
the export with every trial that authenticated, or left out and named; nothing unauthenticated
is written as data. The audit row of the export goes to the copy, which is deleted: the damaged
database is never written to, so the report beside the export is the record.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from cogflow_desktop.export.atomic import temp_name
from cogflow_desktop.export.options import ExportOptions, ExportResult
from cogflow_desktop.export.salvage_source import (
    UNREADABLE,
    RunSalvage,
    SalvageContext,
    salvage_run,
    salvage_runs,
)
from cogflow_desktop.export.service import _check, _make_sink, _plain
from cogflow_desktop.export.source import select_runs
from cogflow_desktop.services import auth
from cogflow_desktop.services.errors import BadRequest, Corrupted, ServiceError
from cogflow_desktop.store.models import Study

REPORT_SUFFIX = ".salvage-report.txt"


@dataclass(frozen=True)
class SalvageResult:
    export: ExportResult
    report: Path
    lost: list[RunSalvage]  # runs left out or exported without some of their trials

    @property
    def complete(self) -> bool:
        return not self.lost

    def sentence(self) -> str:
        """One sentence for stderr."""
        what = (
            f"Salvaged {self.export.runs} runs ({self.export.trials} trials) from the damaged "
            "database"
        )
        if self.complete:
            return f"{what}: every run and trial was read and authenticated; report: {self.report}."
        named = ", ".join(f"run {r.run_id} ({short_loss(r)})" for r in self.lost)
        return f"{what}; could not read or authenticate {named}; details in {self.report}."


def report_path(out: Path) -> Path:
    return out.with_name(out.name + REPORT_SUFFIX)


def export_salvaged(
    ctx: SalvageContext, private_key: X25519PrivateKey, options: ExportOptions
) -> SalvageResult:
    """Export what authenticates from the damaged database's copy to `options.out`, and write
    the report beside it. Raises ServiceError (one sentence) when nothing can be exported."""
    out = _check(options)
    report = report_path(out)
    if report.exists():
        raise BadRequest(f"{report} already exists; choose another export name.")
    ids = options.include_participant_ids
    # Rolled back, never committed: SQLite may refuse to COMMIT a transaction that met a
    # damaged page, and this one has nothing to keep.
    with ctx.reader() as s:
        try:
            sel = select_runs(s, options.study_slug, options.run_ids)
            rows = salvage_runs(s, sel)
        except UNREADABLE as exc:
            raise Corrupted(
                f"The list of runs of {options.study_slug!r} cannot be read from the damaged "
                "database, so nothing could be exported; restore the newest good backup."
            ) from exc
        sink = _make_sink(options, out, sel)
        salvaged: list[RunSalvage] = []
        runs = trials = 0
        try:
            for row in rows:
                found = salvage_run(s, sel, row, private_key, ids)
                salvaged.append(found)
                if found.record is None:
                    continue
                sink.begin_run(found.record)
                if found.trials:
                    sink.add_trials(found.trials)
                sink.end_run()
                runs += 1
                trials += len(found.trials)
                s.expunge_all()
            files = sink.finish()
        except BaseException as exc:
            sink.abort()
            raise _plain(exc, out) from exc
    result = SalvageResult(
        ExportResult(options.format, out, runs, trials, files),
        report,
        [r for r in salvaged if not r.complete],
    )
    _write_report(ctx, options, result, salvaged)
    return result


def study_slugs(ctx: SalvageContext) -> list[str]:
    """The studies the damaged database's copy still lists (empty when the list is unreadable)."""
    try:
        with ctx.reader() as s:
            return sorted(str(slug) for slug in s.scalars(select(Study.slug)))
    except UNREADABLE:
        return []


def signed_in_salvage(
    ctx: SalvageContext,
    username: str,
    password: str,
    code: str,
    options: ExportOptions,
    client: str,
) -> SalvageResult:
    """A salvage export behind the same proof as every export: the password, then a TOTP code
    verified just now (both checked, throttled and audited in the copy). Raises ServiceError
    with one sentence on a refusal or when nothing could be read."""
    try:
        try:
            login = auth.login(ctx, username, password, client=client)
        except ServiceError as exc:
            raise BadRequest("The username or password is not correct.") from exc
        try:
            if not code.strip():
                raise BadRequest("An export needs a current code from your authenticator app.")
            auth.verify_code(ctx, login.secrets, code.strip(), client=client)
            auth.require_fresh_mfa(ctx, login.secrets)
            return export_salvaged(ctx, login.secrets.private_key, options)
        finally:
            # Signing out of a copy that cannot take the write must not hide the export.
            with contextlib.suppress(*UNREADABLE):
                auth.logout(ctx, login.token, client=client)
    except UNREADABLE as exc:
        raise Corrupted(
            f"The accounts or sessions in the damaged database {ctx.damaged_db} cannot be read "
            "or written even in its copy, so no one can sign in to salvage it; restore the "
            "newest good backup."
        ) from exc


def _write_report(
    ctx: SalvageContext, options: ExportOptions, result: SalvageResult, runs: list[RunSalvage]
) -> None:
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        "CogFlow Desktop salvage export",
        "",
        f"Made:      {made}",
        f"Database:  {ctx.damaged_db} (damaged: {ctx.problem}; read from a private copy, "
        "the file itself was not written to)",
        f"Study:     {options.study_slug}",
        f"Export:    {result.export.out} ({result.export.format})",
        f"Exported:  {result.export.runs} of {len(runs)} runs, {result.export.trials} trials. "
        "Every exported run passed its integrity check (against its sealed manifest, where "
        "it has one) and every exported trial authenticated (AES-GCM, bound to its run and "
        "trial index).",
        "",
    ]
    if result.complete:
        lines.append("Nothing was lost: every run and trial was read and authenticated.")
    else:
        lines.append("Could not be read or authenticated (left out of the export):")
        lines.extend(f"- run {r.run_id}: {describe_loss(r)}" for r in result.lost)
    lines += [
        "",
        "This export is not in the audit log: the damaged database is never written to.",
        "Restore the newest good backup (see the README, 'When things go wrong') to go on "
        "recording.",
        "",
    ]
    tmp = temp_name(result.report)
    try:
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.replace(tmp, result.report)
    finally:
        tmp.unlink(missing_ok=True)


def _ranges(indices: list[int]) -> str:
    """[1, 2, 3, 7] -> 'trials 1-3, 7'; [5] -> 'trial 5'."""
    parts: list[str] = []
    start = prev = None
    for i in sorted(indices):
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            parts.append(f"{start}-{prev}" if prev != start else f"{start}")
        start = prev = i
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else f"{start}")
    word = "trial" if len(indices) == 1 else "trials"
    return f"{word} {', '.join(parts)}"


def short_loss(r: RunSalvage) -> str:
    if r.run_problem is not None:
        return "the whole run"
    return _ranges(r.unreadable + r.unauthenticated)


def describe_loss(r: RunSalvage) -> str:
    if r.run_problem is not None:
        return f"left out entirely: {r.run_problem}."
    said = []
    if r.unreadable:
        said.append(f"{_ranges(r.unreadable)} could not be read ({r.unreadable_reason})")
    if r.unauthenticated:
        said.append(
            f"{_ranges(r.unauthenticated)} did not authenticate (the stored ciphertext was "
            "changed or damaged)"
        )
    lost = len(r.unreadable) + len(r.unauthenticated)
    return f"exported without {lost} trial{'' if lost == 1 else 's'}: " + "; ".join(said) + "."
