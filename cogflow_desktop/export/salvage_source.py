"""Reading a damaged database for a salvage export: a private copy, and run by run, trial by
trial, only what still authenticates.

The damaged file itself is only ever read as bytes, to copy it (with its -wal companion) into
a private temporary folder: SQLite never opens it, so it stays byte for byte as it was (no
-shm, no journal, no WAL checkpoint beside it). Everything else works on the copy, which is
deleted afterwards; it holds only ciphertext, like the database.

Every run must still pass the run-level check against its sealed manifest (keys, status, trial
count, result envelopes, participant id); its trials are then fetched one at a time, each
authenticated with its own associated data (run id and trial index). A trial whose row cannot
be read, or whose ciphertext does not authenticate, is left out and named, never guessed at.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cogflow_desktop.export.source import (
    RunRecord,
    RunRow,
    Selection,
    iter_run_pages,
    load_run,
    read_secrets,
)
from cogflow_desktop.json_numbers import loads_exact
from cogflow_desktop.security import envelopes
from cogflow_desktop.services import manifest, results
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import BadRequest, ServiceError
from cogflow_desktop.services.runs import trial_aad
from cogflow_desktop.services.throttle import FailureThrottle, standard_tiers
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.backups import quick_check
from cogflow_desktop.store.engine import make_engine, make_session_factory, read_only
from cogflow_desktop.store.models import RunSession

# What reading a damaged page raises: SQLite's own error through a raw cursor, SQLAlchemy's
# wrapper through a session.
UNREADABLE = (sqlite3.DatabaseError, SQLAlchemyError)


@dataclass
class SalvageContext(Context):
    """A Context on a private copy of the damaged database; close() deletes the copy."""

    damaged_db: Path | None = None
    problem: str = ""
    copy_dir: Path | None = None

    def close(self) -> None:
        super().close()
        if self.copy_dir is not None:
            shutil.rmtree(self.copy_dir, ignore_errors=True)


def open_salvage_copy(settings: Settings, command: str = "export") -> SalvageContext:
    """Copy the damaged database aside and open the copy. Sign-ins, TOTP checks and their audit
    rows work as usual but land in the copy (the damaged file is never written to)."""
    db = settings.db_path
    if not db.is_file() or db.stat().st_size == 0:
        raise BadRequest(f"There is no database to salvage at {db}.")
    copy_dir = Path(tempfile.mkdtemp(prefix="cogflow-salvage-"))  # owner-only (0700)
    try:
        copy = replace(settings, data_dir=copy_dir)
        for suffix in ("", "-wal"):  # committed data may still be in the WAL
            source = db.with_name(db.name + suffix)
            if source.is_file():
                shutil.copyfile(source, copy.db_path.with_name(copy.db_path.name + suffix))
        # Checked on the copy: even a read-only SQLite connection leaves -wal and -shm files.
        problem = quick_check(copy.db_path)
        if problem is None:
            raise BadRequest(
                f"The database {db} passed its integrity check, so there is nothing to "
                f"salvage: {command} without --salvage."
            )
        engine = make_engine(copy.db_path)
        tiers = standard_tiers(settings.throttle_limit, settings.throttle_window_seconds)
        ctx = SalvageContext(
            settings=copy,
            engine=engine,
            writer=make_session_factory(engine),
            reader=make_session_factory(read_only(engine)),
            login_throttle=FailureThrottle(tiers),
            totp_throttle=FailureThrottle(tiers),
            damaged_db=db,
            problem=problem,
            copy_dir=copy_dir,
        )
    except BaseException:
        shutil.rmtree(copy_dir, ignore_errors=True)
        raise
    from cogflow_desktop.services.auth import seed_throttles

    # Failures recorded before the damage still count; with an unreadable audit log the
    # throttle starts afresh for this command.
    with contextlib.suppress(*UNREADABLE):
        seed_throttles(ctx)
    return ctx


@dataclass
class RunSalvage:
    """What could be read of one run: its record and trials (all authenticated), and what not."""

    run_id: str
    record: RunRecord | None = None
    trials: list[dict[str, Any]] = field(default_factory=list)
    run_problem: str | None = None  # the whole run was left out, and why
    unreadable: list[int] = field(default_factory=list)  # rows SQLite could not read
    unauthenticated: list[int] = field(default_factory=list)  # ciphertext did not verify
    unreadable_reason: str = ""

    @property
    def complete(self) -> bool:
        return self.run_problem is None and not self.unreadable and not self.unauthenticated


def salvage_runs(s: Session, sel: Selection) -> list[RunRow]:
    """The selected runs' plain rows (raises what SQLite raised when the list is unreadable)."""
    return [row for page in iter_run_pages(s, sel) for row in page]


def salvage_run(
    s: Session,
    sel: Selection,
    row: RunRow,
    private_key: X25519PrivateKey,
    include_participant_id: bool,
) -> RunSalvage:
    found = RunSalvage(row.id)
    try:
        secrets = read_secrets(s, [row.id])[row.id]
        keys = results.RunKeys(s, private_key, row.id, secrets.sealed_keys)
        results.verify_run(s, keys, row.id, check_trials=False)
        found.record = load_run(s, sel, keys, private_key, row, include_participant_id, secrets)
        expected = _expected_indices(s, keys, row.id)
    except UNREADABLE as exc:
        found.run_problem = f"its records could not be read ({_sqlite_reason(exc)})"
        return found
    except (envelopes.DecryptionError, ValueError, ServiceError) as exc:
        detail = (
            str(exc)
            if isinstance(exc, results.IntegrityError)
            else "a key or result did not authenticate"
        )
        found.run_problem = f"it failed its integrity check ({detail})"
        return found
    cursor = s.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for index in expected:
            _read_trial(cursor, keys, found, index)
    finally:
        cursor.close()
    return found


_TRIAL_SQL = "SELECT key_id, ciphertext FROM trial_records WHERE run_id = ? AND trial_index = ?"
_INDEX_SQL = "SELECT trial_index FROM trial_records WHERE run_id = ? ORDER BY trial_index"


def _read_trial(
    cursor: sqlite3.Cursor, keys: results.RunKeys, found: RunSalvage, index: int
) -> None:
    try:
        row = cursor.execute(_TRIAL_SQL, (found.run_id, index)).fetchone()
    except sqlite3.DatabaseError as exc:
        found.unreadable.append(index)
        found.unreadable_reason = found.unreadable_reason or _sqlite_reason(exc)
        return
    if row is None:
        found.unreadable.append(index)
        found.unreadable_reason = found.unreadable_reason or "the row is missing"
        return
    key_id, blob = row
    try:
        plain = keys.cipher(key_id).decrypt(bytes(blob), trial_aad(found.run_id, index))
        found.trials.append(loads_exact(plain))
    except (envelopes.DecryptionError, ValueError, TypeError):
        found.unauthenticated.append(index)


def _expected_indices(s: Session, keys: results.RunKeys, run_id: str) -> list[int]:
    """The trial indices the run must have: from its sealed manifest (authenticated), or for a
    run recorded before manifests, from the trial rows' index."""
    run = s.execute(
        select(RunSession.manifest, RunSession.manifest_key_id).where(RunSession.id == run_id)
    ).one()
    if run.manifest is not None and run.manifest_key_id is not None:
        m = manifest.open_manifest(keys.get(run.manifest_key_id), run.manifest, run_id)
        return [i for first, last, _key in m.trials for i in range(first, last + 1)]
    cursor = s.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        return [i for (i,) in cursor.execute(_INDEX_SQL, (run_id,)).fetchall()]
    finally:
        cursor.close()


def _sqlite_reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).rstrip(".")
