"""What sync sends for one run, read and decrypted from the store with the install key: the
trials and the payload's copy of them in the central vocabulary (`vocabulary`), and a
provenance block with the run's real times (the central server stamps its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cogflow_desktop import __version__
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import NotFound
from cogflow_desktop.services.results import (
    RunKeys,
    iter_trials,
    open_envelope,
    unseal_participant_id,
)
from cogflow_desktop.store.models import ResultEnvelope, RunSession
from cogflow_desktop.sync import vocabulary


@dataclass(frozen=True)
class ConfigRef:
    """One local config version, as it is published to the central server."""

    config_version_id: int
    study_slug: str
    study_name: str
    runtime_mode: str
    label: str
    builder_version: str | None
    content_hash: str
    publish_seq: int
    config: dict[str, Any]

    @property
    def experiment_type(self) -> str | None:
        value = self.config.get("experiment_type") if isinstance(self.config, dict) else None
        return value if isinstance(value, str) else None

    def publish_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "study_slug": self.study_slug,
            "study_name": self.study_name,
            "config_version_label": self.label,
            # Sent explicitly: the reference server resets a study to `django` without it.
            "runtime_mode": self.runtime_mode,
            "config": self.config,
        }
        if self.builder_version:
            body["builder_version"] = self.builder_version
        return body


@dataclass(frozen=True)
class RunMaterial:
    run_id: str
    status: str  # as sent: completed | failed
    interrupted: bool
    participant_id: str
    config: ConfigRef
    trial_count: int
    result_summary: dict[str, Any]
    result_payload: dict[str, Any]  # as recorded
    trials: list[dict[str, Any]]  # as sent: in the central vocabulary
    started_at: datetime  # when the run really started and ended (this computer's clock)
    completed_at: datetime | None
    last_activity_at: datetime

    def submit_payload(self) -> dict[str, Any]:
        """The local payload (its trials in the central vocabulary) plus provenance.
        Deterministic for a given run, so a resent submit is byte-identical (the server
        treats that as a retry, not a change)."""
        payload = vocabulary.central_payload(self.result_payload, self.config.experiment_type)
        provenance: dict[str, Any] = {
            "local_run_session_id": self.run_id,
            "config_version_label": self.config.label,
            "config_content_hash": self.config.content_hash,
            "app": "cogflow-desktop",
            "app_version": __version__,
            "interrupted": self.interrupted,
            # The central server's started_at/completed_at are when the run was synced.
            "run_started_at": _iso(self.started_at),
            "run_completed_at": _iso(self.completed_at),
            "run_last_activity_at": _iso(self.last_activity_at),
            "times_note": (
                "run_* times are when the run happened on the lab computer (its clock, UTC); "
                "the server's own started_at and completed_at record when it was synced."
            ),
        }
        if self.interrupted:
            provenance["note"] = (
                "The run was interrupted on the lab machine (app closed or crashed) and is "
                "sent as failed with every trial that was recorded."
            )
        timing = payload.get("timing") or payload.get("timing_fingerprint")
        if isinstance(timing, dict):
            provenance["timing_fingerprint"] = timing
        payload["cogflow_provenance"] = provenance
        return payload


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def config_ref(run: RunSession) -> ConfigRef:
    version, study = run.config_version, run.study
    return ConfigRef(
        config_version_id=version.id,
        study_slug=study.slug,
        study_name=study.name,
        runtime_mode=study.runtime_mode or "django",
        label=version.label,
        builder_version=version.builder_version,
        content_hash=version.content_hash,
        publish_seq=version.publish_seq,
        config=version.config,
    )


def load(ctx: Context, private_key: X25519PrivateKey, run_id: str) -> RunMaterial:
    with ctx.read() as s:
        # One query for the run with its study and config, one for both envelopes.
        run = s.scalar(
            select(RunSession)
            .where(RunSession.id == run_id)
            .options(joinedload(RunSession.study), joinedload(RunSession.config_version))
        )
        if run is None:
            raise NotFound("Run session not found.")
        keys = RunKeys(s, private_key, run_id)
        envs = {
            kind: open_envelope(keys, run_id, kind, key_id, blob)
            for kind, key_id, blob in s.execute(
                select(ResultEnvelope.kind, ResultEnvelope.key_id, ResultEnvelope.ciphertext).where(
                    ResultEnvelope.run_id == run_id
                )
            )
        }
        final = envs.get("final")
        source = final if final is not None else envs.get("checkpoint")
        trials = list(iter_trials(s, keys, run_id))
        interrupted = run.status == "started"
        ref = config_ref(run)
        return RunMaterial(
            run_id=run.id,
            status="failed" if interrupted else run.status,
            interrupted=interrupted,
            participant_id=unseal_participant_id(private_key, run),
            config=ref,
            trial_count=max(run.trial_count, len(trials)),
            result_summary=dict((final or {}).get("result_summary") or {}),
            result_payload=dict((source or {}).get("result_payload") or {}),
            trials=vocabulary.central_rows(trials, ref.experiment_type),
            started_at=run.started_at,
            completed_at=run.completed_at,
            last_activity_at=run.last_activity_at,
        )
