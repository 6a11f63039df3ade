"""Publishing configs and reading studies back. Returns plain dicts shaped like the contract."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cogflow_desktop import audit
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import NotFound
from cogflow_desktop.store.models import (
    ConfigVersion,
    ResultEnvelope,
    RunSession,
    Study,
    utcnow,
)

RUNS_DEFAULT_LIMIT = 200
RUNS_MAX_LIMIT = 500


def dashboard_url(slug: str) -> str:
    return f"/portal/studies/{slug}"


def config_hash(config: dict[str, Any]) -> str:
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class PublishRequest:
    study_slug: str
    study_name: str
    config_version_label: str
    config: dict[str, Any]
    runtime_mode: str | None = None
    builder_version: str | None = None


def empty_timeline_problem(config: dict[str, Any]) -> str | None:
    """The app's own ways to publish (Builder, Import) refuse a study with nothing to run. The
    v1 API itself accepts one, as the central server does."""
    timeline = config.get("timeline")
    if isinstance(timeline, list) and not timeline:
        return (
            "The timeline is empty: add at least one component before publishing, "
            "or a participant would have nothing to do."
        )
    return None


def _has_runs(s: Session, version: ConfigVersion) -> bool:
    return (
        s.scalar(select(RunSession.id).where(RunSession.config_version_id == version.id).limit(1))
        is not None
    )


def _free_label(s: Session, study_id: int, label: str) -> str:
    """`v1` -> `v1-2` (or `-3`...): the first label the study does not use yet."""
    taken = set(s.scalars(select(ConfigVersion.label).where(ConfigVersion.study_id == study_id)))
    n = 2
    while f"{label}-{n}" in taken:
        n += 1
    return f"{label}-{n}"


def publish(ctx: Context, req: PublishRequest, *, actor: str, client: str | None) -> dict[str, Any]:
    """Upsert by slug + label; the published label becomes the study's latest version.

    A label that already has runs keeps the config those runs used: different content is
    stored as a new version (`v1` -> `v1-2`) and the answer says so, as the contract lets the
    central server do (`config_version_label_adjusted`)."""
    now = utcnow()
    task_type = req.config.get("task_type")
    task_type = task_type if isinstance(task_type, str) else None
    with ctx.write() as s:
        study = s.scalar(select(Study).where(Study.slug == req.study_slug))
        created = study is None
        if study is None:
            study = Study(
                slug=req.study_slug,
                name=req.study_name,
                runtime_mode=req.runtime_mode or "django",
                created_at=now,
            )
            s.add(study)
            s.flush()
        else:
            study.name = req.study_name
            # Unlike the reference server, a missing runtime_mode keeps the study's mode.
            if req.runtime_mode:
                study.runtime_mode = req.runtime_mode
        study.last_activity_at = now
        seq = (
            s.scalar(
                select(func.max(ConfigVersion.publish_seq)).where(
                    ConfigVersion.study_id == study.id
                )
            )
            or 0
        ) + 1
        version = s.scalar(
            select(ConfigVersion).where(
                ConfigVersion.study_id == study.id, ConfigVersion.label == req.config_version_label
            )
        )
        label = req.config_version_label
        if (
            version is not None
            and version.content_hash != config_hash(req.config)
            and _has_runs(s, version)
        ):
            label = _free_label(s, study.id, req.config_version_label)
            version = None
        if version is None:
            version = ConfigVersion(study_id=study.id, label=label, created_at=now)
            s.add(version)
        version.config = req.config
        version.task_type = task_type
        version.builder_version = req.builder_version
        version.content_hash = config_hash(req.config)
        version.published_at = now
        version.publish_seq = seq
        s.flush()
        audit.record(
            s,
            "study.publish",
            actor=actor,
            client=client,
            target=study.slug,
            details={
                "config_version_label": version.label,
                "requested_config_version_label": req.config_version_label,
                "content_hash": version.content_hash,
                "created_study": created,
            },
        )
        return {
            "study_id": study.id,
            "config_version_id": version.id,
            "study_slug": study.slug,
            "dashboard_url": dashboard_url(study.slug),
            "config_version_label": version.label,
            "requested_config_version_label": req.config_version_label,
            "config_version_label_adjusted": version.label != req.config_version_label,
            "requested_study_slug": req.study_slug,
            "study_slug_adjusted": False,
            "content_hash": version.content_hash,
        }


def latest_version(s: Session, study_id: int) -> ConfigVersion | None:
    return s.scalar(
        select(ConfigVersion)
        .where(ConfigVersion.study_id == study_id)
        .order_by(ConfigVersion.publish_seq.desc())
        .limit(1)
    )


def get_study(s: Session, slug: str) -> Study:
    study = s.scalar(select(Study).where(Study.slug == slug))
    if study is None:
        raise NotFound("Study not found.")
    return study


def list_studies(ctx: Context) -> list[dict[str, Any]]:
    """Every study, newest activity first: no cap, the list is small enough to send whole."""
    with ctx.read() as s:
        latest_seq = (
            select(ConfigVersion.study_id, func.max(ConfigVersion.publish_seq).label("seq"))
            .group_by(ConfigVersion.study_id)
            .subquery()
        )
        latest_label = (
            select(ConfigVersion.study_id, ConfigVersion.label)
            .join(
                latest_seq,
                (ConfigVersion.study_id == latest_seq.c.study_id)
                & (ConfigVersion.publish_seq == latest_seq.c.seq),
            )
            .subquery()
        )
        runs = (
            select(
                RunSession.study_id,
                func.count().label("n"),
                func.max(RunSession.completed_at).label("last_result"),
            )
            .group_by(RunSession.study_id)
            .subquery()
        )
        # Columns, not Study objects: a thousand ORM instances cost more than the query.
        rows = s.execute(
            select(
                Study.slug,
                Study.name,
                Study.runtime_mode,
                Study.last_activity_at,
                latest_label.c.label,
                runs.c.n,
                runs.c.last_result,
            )
            .outerjoin(latest_label, latest_label.c.study_id == Study.id)
            .outerjoin(runs, runs.c.study_id == Study.id)
            .order_by(Study.last_activity_at.desc(), Study.id.desc())
        ).all()
        return [
            {
                "study_slug": slug,
                "study_name": name,
                "runtime_mode": runtime_mode,
                "latest_config_version": label,
                "run_count": int(n or 0),
                "last_result_at": _iso(last_result),
                "last_activity_at": _iso(last_activity_at),
                "dashboard_url": dashboard_url(slug),
            }
            for slug, name, runtime_mode, last_activity_at, label, n, last_result in rows
        ]


def _version_item(v: ConfigVersion) -> dict[str, Any]:
    return {
        "config_version_id": v.id,
        "config_version_label": v.label,
        "task_type": v.task_type,
        "builder_version": v.builder_version,
        "content_hash": v.content_hash,
        "published_at": _iso(v.published_at),
        "config": v.config,
    }


def latest_config(ctx: Context, slug: str) -> dict[str, Any]:
    with ctx.read() as s:
        study = get_study(s, slug)
        versions = s.scalars(
            select(ConfigVersion)
            .where(ConfigVersion.study_id == study.id)
            .order_by(ConfigVersion.publish_seq.desc())
        ).all()
        if not versions:
            raise NotFound("This study has no published config.")
        return {
            "config": versions[0].config,
            "config_version_id": versions[0].id,
            "config_version_label": versions[0].label,
            "configs": [_version_item(v) for v in versions],
            "study_properties": {
                "study_slug": study.slug,
                "study_name": study.name,
                "runtime_mode": study.runtime_mode,
                "dashboard_url": dashboard_url(study.slug),
            },
        }


def run_item(
    run: RunSession, version: ConfigVersion, result: ResultEnvelope | None
) -> dict[str, Any]:
    return {
        "run_session_id": run.id,
        "status": run.status,
        "interrupted": run.interrupted_at is not None and run.status == "started",
        "started_at": _iso(run.started_at),
        "completed_at": _iso(run.completed_at),
        "participant_key_preview": run.participant_key[:8],
        "task_type": version.task_type,
        "config_version_id": version.id,
        "config_version_label": version.label,
        "has_result": result is not None,
        "trial_count": run.trial_count,
        "result_created_at": _iso(result.created_at) if result else None,
    }


def study_runs(ctx: Context, slug: str, limit: int = RUNS_DEFAULT_LIMIT) -> dict[str, Any]:
    with ctx.read() as s:
        study = get_study(s, slug)
        total = s.scalar(select(func.count()).where(RunSession.study_id == study.id))
        rows = s.execute(
            select(RunSession, ConfigVersion, ResultEnvelope)
            .join(ConfigVersion, ConfigVersion.id == RunSession.config_version_id)
            .outerjoin(
                ResultEnvelope,
                (ResultEnvelope.run_id == RunSession.id) & (ResultEnvelope.kind == "final"),
            )
            .where(RunSession.study_id == study.id)
            .order_by(RunSession.started_at.desc(), RunSession.id)
            .limit(limit)
        ).all()
        return {
            "runs": [run_item(r, v, e) for r, v, e in rows],
            "total_run_count": int(total or 0),
            "runs_returned": len(rows),
            "runs_limit": limit,
        }
