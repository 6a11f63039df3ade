"""The sealed run manifest: what a run's plaintext columns and rows must be.

Rows are bound to their place by associated data (run, kind, trial index), but the columns
beside them (participant_key, status, trial_count) and the set of rows itself are plaintext:
a writer of the database could swap, change or delete them unnoticed. So the recording path
keeps one manifest per run, encrypted under the run's content key (which only it holds while
recording, and which only the install private key can unseal later):

    run, study, config version, participant_key, status, trial_count,
    the run's content keys by fingerprint (key id -> HMAC of the key with itself),
    its trial rows as ranges of trial_index with the key each was written under,
    its result envelopes (kind -> key id and SHA-256 of the ciphertext).

Decrypt and export compare the database with it (services/results.py `verify_run`). A run
recorded before manifests existed has none (`bound = 0`) and is reported "unverified".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cogflow_desktop.security import envelopes
from cogflow_desktop.store.engine import trial_index_keys
from cogflow_desktop.store.models import ResultEnvelope, RunKey, RunSession

VERSION = 1
Range = tuple[int, int, int]  # first trial_index, last trial_index, key id


def fingerprint(key: bytes) -> str:
    return hmac.new(key, b"cogflow run key fingerprint", hashlib.sha256).hexdigest()


def manifest_aad(run_id: str) -> bytes:
    return f"cogflow:manifest:{run_id}".encode()


def digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def ranges_of(pairs: Iterable[tuple[int, int]]) -> tuple[Range, ...]:
    """(trial_index, key id) pairs in trial_index order -> ranges of consecutive indices
    written under the same key."""
    out: list[list[int]] = []
    for index, key_id in pairs:
        last = out[-1] if out else None
        if last is not None and last[2] == key_id and index == last[1] + 1:
            last[1] = index
        else:
            out.append([index, index, key_id])
    return tuple((a, b, k) for a, b, k in out)


@dataclass(frozen=True)
class Manifest:
    run: str
    study: int
    config_version: int
    participant_key: str
    status: str
    trial_count: int
    keys: Mapping[int, str] = field(default_factory=dict)
    trials: tuple[Range, ...] = ()
    envelopes: Mapping[str, tuple[int, str]] = field(default_factory=dict)

    def with_key(self, key_id: int, key_fingerprint: str) -> Manifest:
        if self.keys.get(key_id) == key_fingerprint:
            return self
        return replace(self, keys={**self.keys, key_id: key_fingerprint})

    def with_trials(self, indices: Sequence[int], key_id: int) -> Manifest:
        """Rows `indices` (any order) now written under `key_id`."""
        if not indices:
            return self
        ordered = sorted(set(indices))
        last = self.trials[-1] if self.trials else None
        contiguous = ordered[-1] - ordered[0] == len(ordered) - 1
        if last is not None and contiguous and ordered[0] == last[1] + 1 and last[2] == key_id:
            # The usual case, a checkpoint appending rows: extend the last range.
            trials = (*self.trials[:-1], (last[0], ordered[-1], key_id))
        elif contiguous and (last is None or ordered[0] > last[1]):
            trials = (*self.trials, (ordered[0], ordered[-1], key_id))
        else:  # rows rewritten or out of order: recompute every range (once per submit)
            by_index = {i: k for a, b, k in self.trials for i in range(a, b + 1)}
            by_index.update(dict.fromkeys(ordered, key_id))
            trials = ranges_of(sorted(by_index.items()))
        return replace(self, trials=trials)

    def with_envelope(self, kind: str, key_id: int, ciphertext: bytes) -> Manifest:
        return replace(self, envelopes={**self.envelopes, kind: (key_id, digest(ciphertext))})

    def with_state(self, status: str, trial_count: int) -> Manifest:
        return replace(self, status=status, trial_count=trial_count)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "run": self.run,
            "study": self.study,
            "config_version": self.config_version,
            "participant_key": self.participant_key,
            "status": self.status,
            "trial_count": self.trial_count,
            "keys": {str(k): v for k, v in sorted(self.keys.items())},
            "trials": [list(r) for r in self.trials],
            "envelopes": {k: list(v) for k, v in sorted(self.envelopes.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("v") != VERSION:
            raise envelopes.DecryptionError("manifest of an unknown version")
        return cls(
            run=data["run"],
            study=data["study"],
            config_version=data["config_version"],
            participant_key=data["participant_key"],
            status=data["status"],
            trial_count=data["trial_count"],
            keys={int(k): v for k, v in data["keys"].items()},
            trials=tuple((a, b, k) for a, b, k in data["trials"]),
            envelopes={k: (v[0], v[1]) for k, v in data["envelopes"].items()},
        )

    def seal(self, key: bytes) -> bytes:
        body = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()
        return envelopes.encrypt(key, body, manifest_aad(self.run))


def open_manifest(key: bytes, blob: bytes, run_id: str) -> Manifest:
    try:
        data = json.loads(envelopes.decrypt(key, blob, manifest_aad(run_id)))
        manifest = Manifest.from_json(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise envelopes.DecryptionError("manifest is malformed") from exc
    if manifest.run != run_id:
        raise envelopes.DecryptionError("manifest names another run")
    return manifest


# --- what the database holds now ------------------------------------------------------------


def trial_ranges(s: Session, run_id: str) -> tuple[Range, ...]:
    return ranges_of(trial_index_keys(s, run_id))


_ENVELOPES = select(ResultEnvelope.kind, ResultEnvelope.key_id, ResultEnvelope.ciphertext).where(
    ResultEnvelope.run_id == bindparam("b_run")
)


def envelope_digests(s: Session, run_id: str) -> dict[str, tuple[int, str]]:
    rows = s.connection().execute(_ENVELOPES, {"b_run": run_id})
    return {kind: (key_id, digest(blob)) for kind, key_id, blob in rows}


def rebuild(s: Session, run_id: str) -> Manifest:
    """The manifest as the database stands (the writer's start after a restart mid-run: the
    earlier manifest is sealed under a key it no longer holds)."""
    run = s.get(RunSession, run_id)
    assert run is not None
    keys = {
        key_id: fp
        for key_id, fp in s.execute(
            select(RunKey.id, RunKey.fingerprint).where(RunKey.run_id == run_id)
        )
        if fp is not None
    }
    return Manifest(
        run=run.id,
        study=run.study_id,
        config_version=run.config_version_id,
        participant_key=run.participant_key,
        status=run.status,
        trial_count=run.trial_count,
        keys=keys,
        trials=trial_ranges(s, run_id),
        envelopes=envelope_digests(s, run_id),
    )


class ManifestCache:
    """run id -> the manifest the writer last committed, least recently used dropped (a
    dropped one is rebuilt from the database)."""

    def __init__(self, capacity: int = 2048) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, Manifest] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str) -> Manifest | None:
        with self._lock:
            item = self._items.get(run_id)
            if item is not None:
                self._items.move_to_end(run_id)
            return item

    def put(self, manifest: Manifest) -> None:
        with self._lock:
            self._items[manifest.run] = manifest
            self._items.move_to_end(manifest.run)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._items.pop(run_id, None)
