"""Reading results back: needs the install private key (a researcher's unlocked session)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from cogflow_desktop.security import envelopes
from cogflow_desktop.services.errors import Corrupted, NotFound
from cogflow_desktop.services.runs import (
    participant_aad,
    result_aad,
    run_key_aad,
    trial_aad,
)
from cogflow_desktop.store.models import ResultEnvelope, RunKey, RunSession, TrialRecord

try:  # optional speed-up: parsing is most of the cost of reading trials back (exports)
    import orjson
except ImportError:  # pragma: no cover - the json module does the same, slower
    orjson = None  # type: ignore[assignment]


def _loads(data: bytes) -> Any:
    """orjson when installed; the json module for what orjson refuses (NaN, huge integers)."""
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


class RunKeys:
    """Unseals a run's content keys on first use and keeps them for the call's duration."""

    def __init__(self, s: Session, private_key: X25519PrivateKey, run_id: str) -> None:
        self._s = s
        self._private_key = private_key
        self._run_id = run_id
        self._keys: dict[int, bytes] = {}

    def get(self, key_id: int) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            row = self._s.get(RunKey, key_id)
            if row is None or row.run_id != self._run_id:
                raise envelopes.DecryptionError("content key does not belong to this run")
            key = envelopes.unseal(self._private_key, row.sealed_key, run_key_aad(self._run_id))
            self._keys[key_id] = key
        return key


def unseal_participant_id(private_key: X25519PrivateKey, run: RunSession) -> str:
    return envelopes.unseal(
        private_key, run.participant_id_sealed, participant_aad(run.id)
    ).decode()


def iter_trials(
    s: Session, keys: RunKeys, run_id: str, batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """Decrypted trials in trial_index order, fetched in batches (memory stays flat)."""
    last = -1
    while True:
        rows = s.execute(
            select(TrialRecord.trial_index, TrialRecord.key_id, TrialRecord.ciphertext)
            .where(TrialRecord.run_id == run_id, TrialRecord.trial_index > last)
            .order_by(TrialRecord.trial_index)
            .limit(batch)
        ).all()
        if not rows:
            return
        for idx, key_id, blob in rows:
            yield _loads(envelopes.decrypt(keys.get(key_id), blob, trial_aad(run_id, idx)))
            last = idx
        if len(rows) < batch:  # a short page is the last: saves a query per run
            return


def read_envelope(s: Session, keys: RunKeys, run_id: str, kind: str) -> dict[str, Any] | None:
    env = s.scalar(
        select(ResultEnvelope).where(ResultEnvelope.run_id == run_id, ResultEnvelope.kind == kind)
    )
    if env is None:
        return None
    return json.loads(
        envelopes.decrypt(keys.get(env.key_id), env.ciphertext, result_aad(run_id, kind))
    )


def decrypt_run(
    s: Session, private_key: X25519PrivateKey, run_id: str, include_trials: bool
) -> dict[str, Any]:
    """The run's result as the contract's decrypt answer. A run without a final result (still
    running, or interrupted) answers with its latest checkpoint, so no collected data is hidden."""
    try:
        return _decrypt_run(s, private_key, run_id, include_trials)
    except envelopes.DecryptionError as exc:
        # A row moved, edited or damaged on disk: say so plainly (the caller audits it).
        raise Corrupted(
            "The stored data of this run failed its integrity check, so nothing was decrypted."
        ) from exc


def _decrypt_run(
    s: Session, private_key: X25519PrivateKey, run_id: str, include_trials: bool
) -> dict[str, Any]:
    run = s.get(RunSession, run_id)
    if run is None:
        raise NotFound("Run session not found.")
    keys = RunKeys(s, private_key, run_id)
    final = read_envelope(s, keys, run_id, "final")
    source = final if final is not None else read_envelope(s, keys, run_id, "checkpoint")
    has_trials = s.scalar(select(TrialRecord.id).where(TrialRecord.run_id == run_id).limit(1))
    if source is None and has_trials is None:
        raise NotFound("Result envelope not found.")
    payload = dict((source or {}).get("result_payload") or {})
    payload["_summary"] = (final or {}).get("result_summary") or {}
    return {
        "run_session_id": run.id,
        "study_slug": run.study.slug,
        "status": run.status,
        "interrupted": run.interrupted_at is not None and run.status == "started",
        "config_version_label": run.config_version.label,
        "participant_key": run.participant_key,
        "result_payload": payload,
        "trial_count": run.trial_count,
        "trials": list(iter_trials(s, keys, run_id)) if include_trials else None,
    }
