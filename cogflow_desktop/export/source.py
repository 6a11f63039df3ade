"""Reading the runs to export, one at a time, from one read transaction (a consistent snapshot).

Run ids are paged by (started_at, id), trials come from `results.iter_trials` in batches, and
the session's identity map is cleared after each run: memory does not grow with the run count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from cogflow_desktop.services import results
from cogflow_desktop.services.errors import NotFound
from cogflow_desktop.store.models import ConfigVersion, RunSession, Study, TrialRecord

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


def iter_run_ids(s: Session, sel: Selection) -> Iterator[str]:
    """Run ids oldest first, a page at a time."""
    after: tuple[datetime, str] | None = None
    while True:
        query = sel._filtered(select(RunSession.started_at, RunSession.id))
        if after is not None:
            query = query.where(tuple_(RunSession.started_at, RunSession.id) > after)
        page = s.execute(query.order_by(RunSession.started_at, RunSession.id).limit(PAGE)).all()
        if not page:
            return
        for _started_at, run_id in page:
            yield run_id
        after = (page[-1][0], page[-1][1])


def load_run(
    s: Session,
    sel: Selection,
    keys: results.RunKeys,
    private_key: X25519PrivateKey,
    run_id: str,
    include_participant_id: bool,
) -> RunRecord:
    """The run's metadata and result: the final one, or for a run that never finished
    (interrupted or still running) its latest checkpoint."""
    run = s.get(RunSession, run_id)
    if run is None:  # cannot happen inside one snapshot, but say so plainly if it does
        raise NotFound("Run session not found.")
    version = s.get(ConfigVersion, run.config_version_id)
    assert version is not None
    final = results.read_envelope(s, keys, run_id, "final")
    source = final if final is not None else results.read_envelope(s, keys, run_id, "checkpoint")
    record = RunRecord(
        study_slug=sel.study_slug,
        config_version_label=version.label,
        task_type=version.task_type,
        run_session_id=run.id,
        participant_key=run.participant_key,
        status=run.status,
        interrupted=run.interrupted_at is not None and run.status == "started",
        started_at=run.started_at,
        completed_at=run.completed_at,
        trial_count=run.trial_count,
        result_payload=dict((source or {}).get("result_payload") or {}),
        result_summary=dict((final or {}).get("result_summary") or {}),
        participant_external_id=(
            results.unseal_participant_id(private_key, run) if include_participant_id else None
        ),
    )
    return record
