"""Reading the runs to export, one at a time, from one read transaction (a consistent snapshot).

Runs are paged by (started_at, id) with their sealed keys and result envelopes (plain Core
queries, no ORM objects), trials come from `results.trial_pages` in batches, and the session's
identity map is cleared as it goes: memory does not grow with the run count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from cogflow_desktop.services import results
from cogflow_desktop.services.errors import NotFound
from cogflow_desktop.store.models import (
    ConfigVersion,
    ResultEnvelope,
    RunKey,
    RunSession,
    Study,
    TrialRecord,
)

PAGE = 200


@dataclass(frozen=True)
class RunRecord:
    """One run's metadata and decrypted result (without its trials, which stream)."""

    study_slug: str
    config_version_label: str
    task_type: str | None
    run_session_id: str
    participant_key: str
    status: str
    interrupted: bool
    started_at: datetime
    completed_at: datetime | None
    trial_count: int
    result_payload: dict[str, Any]
    result_summary: dict[str, Any]
    # Set only when raw ids were explicitly asked for.
    participant_external_id: str | None = None


@dataclass(frozen=True)
class Selection:
    study_id: int
    study_slug: str
    study_name: str
    run_ids: tuple[str, ...]
    runs_total: int
    trials_total: int

    def _filtered(self, query: Select[Any]) -> Select[Any]:
        query = query.where(RunSession.study_id == self.study_id)
        if self.run_ids:
            query = query.where(RunSession.id.in_(self.run_ids))
        return query


def select_runs(s: Session, study_slug: str, run_ids: tuple[str, ...]) -> Selection:
    """Check the study and the named runs exist, and count what will be exported."""
    study = s.scalar(select(Study).where(Study.slug == study_slug))
    if study is None:
        raise NotFound(f"There is no study named {study_slug!r}.")
    wanted = tuple(dict.fromkeys(run_ids))
    if wanted:
        found = set(
            s.scalars(
                select(RunSession.id).where(
                    RunSession.study_id == study.id, RunSession.id.in_(wanted)
                )
            )
        )
        missing = [r for r in wanted if r not in found]
        if missing:
            raise NotFound(f"Run {missing[0]} is not a run of study {study_slug!r}.")
    sel = Selection(study.id, study.slug, study.name, wanted, 0, 0)
    runs_total = s.scalar(sel._filtered(select(func.count(RunSession.id)))) or 0
    trials_total = (
        s.scalar(
            sel._filtered(
                select(func.count(TrialRecord.id)).join(
                    RunSession, RunSession.id == TrialRecord.run_id
                )
            )
        )
        or 0
    )
    return Selection(study.id, study.slug, study.name, wanted, runs_total, trials_total)


_RUN_COLUMNS = (
    RunSession.id,
    RunSession.started_at,
    RunSession.participant_key,
    RunSession.status,
    RunSession.interrupted_at,
    RunSession.completed_at,
    RunSession.trial_count,
    ConfigVersion.label,
    ConfigVersion.task_type,
)


@dataclass(frozen=True)
class RunRow:
    """A run's plain metadata, read a page of runs at a time (no per-run ORM loads)."""

    id: str
    started_at: datetime
    participant_key: str
    status: str
    interrupted_at: datetime | None
    completed_at: datetime | None
    trial_count: int
    config_version_label: str
    task_type: str | None


@dataclass(frozen=True)
class RunSecrets:
    """A run's sealed content keys and result envelopes, read a page of runs at a time."""

    sealed_keys: dict[int, bytes] = field(default_factory=dict)
    envelopes: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # kind: key id, blob


def iter_run_pages(s: Session, sel: Selection) -> Iterator[list[RunRow]]:
    """The selected runs oldest first, a page at a time."""
    after: tuple[datetime, str] | None = None
    base = sel._filtered(
        select(*_RUN_COLUMNS).join(ConfigVersion, ConfigVersion.id == RunSession.config_version_id)
    )
    while True:
        query = base
        if after is not None:
            query = query.where(tuple_(RunSession.started_at, RunSession.id) > after)
        page = s.execute(query.order_by(RunSession.started_at, RunSession.id).limit(PAGE)).all()
        if not page:
            return
        yield [RunRow(*row) for row in page]
        after = (page[-1].started_at, page[-1].id)


RESULT_KINDS = ("final", "checkpoint")


def read_secrets(s: Session, run_ids: list[str]) -> dict[str, RunSecrets]:
    """Two queries for a page of runs instead of a few ORM loads per run."""
    found = {run_id: RunSecrets() for run_id in run_ids}
    keys = select(RunKey.run_id, RunKey.id, RunKey.sealed_key).where(RunKey.run_id.in_(run_ids))
    for run_id, key_id, sealed in s.execute(keys):
        found[run_id].sealed_keys[key_id] = sealed
    envs = select(
        ResultEnvelope.run_id, ResultEnvelope.kind, ResultEnvelope.key_id, ResultEnvelope.ciphertext
    ).where(ResultEnvelope.run_id.in_(run_ids), ResultEnvelope.kind.in_(RESULT_KINDS))
    for run_id, kind, key_id, blob in s.execute(envs):
        found[run_id].envelopes[kind] = (key_id, blob)
    return found


def load_run(
    s: Session,
    sel: Selection,
    keys: results.RunKeys,
    private_key: X25519PrivateKey,
    row: RunRow,
    include_participant_id: bool,
    secrets: RunSecrets,
) -> RunRecord:
    """The run's metadata and result: the final one, or for a run that never finished
    (interrupted or still running) its latest checkpoint."""

    def open_kind(kind: str) -> dict[str, Any] | None:
        found = secrets.envelopes.get(kind)
        if found is None:
            return None
        return results.open_envelope(keys, row.id, kind, *found)

    final = open_kind("final")
    source = final if final is not None else open_kind("checkpoint")
    raw_id = None
    if include_participant_id:
        run = s.get(RunSession, row.id)
        assert run is not None
        raw_id = results.unseal_participant_id(private_key, run)
    return RunRecord(
        study_slug=sel.study_slug,
        config_version_label=row.config_version_label,
        task_type=row.task_type,
        run_session_id=row.id,
        participant_key=row.participant_key,
        status=row.status,
        interrupted=row.interrupted_at is not None and row.status == "started",
        started_at=row.started_at,
        completed_at=row.completed_at,
        trial_count=row.trial_count,
        result_payload=dict((source or {}).get("result_payload") or {}),
        result_summary=dict((final or {}).get("result_summary") or {}),
        participant_external_id=raw_id,
    )
