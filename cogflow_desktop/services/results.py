"""Reading results back: needs the install private key (a researcher's unlocked session)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cogflow_desktop.json_numbers import loads_exact
from cogflow_desktop.security import envelopes, pseudonyms
from cogflow_desktop.services import manifest
from cogflow_desktop.services.errors import Corrupted, NotFound
from cogflow_desktop.services.runs import (
    LEGACY_KEY_KIND,
    participant_aad,
    result_aad,
    run_key_aads,
    trial_aad,
)
from cogflow_desktop.store.engine import trial_page_fetcher
from cogflow_desktop.store.models import (
    InstallKeys,
    ResultEnvelope,
    RunKey,
    RunSession,
    TrialRecord,
)


class RunKeys:
    """Unseals a run's content keys on first use and keeps them for the call's duration."""

    def __init__(
        self,
        s: Session,
        private_key: X25519PrivateKey,
        run_id: str,
        sealed: dict[int, bytes] | None = None,
    ) -> None:
        self._s = s
        self._private_key = private_key
        self._run_id = run_id
        # Sealed keys the caller already read with this run's id (exports read them a page of
        # runs at a time); others are looked up and checked one by one.
        self._sealed = sealed or {}
        self._keys: dict[int, bytes] = {}
        self._ciphers: dict[int, envelopes.Cipher] = {}
        # Which associated data each key opened with (an index into run_key_aads()).
        self.kinds: dict[int, int] = {}

    @property
    def private_key(self) -> X25519PrivateKey:
        return self._private_key

    def get(self, key_id: int) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            sealed = self._sealed.get(key_id)
            if sealed is None:
                row = self._s.get(RunKey, key_id)
                if row is None or row.run_id != self._run_id:
                    raise envelopes.DecryptionError("content key does not belong to this run")
                sealed = row.sealed_key
            # The AAD names the run: a key sealed for another run does not open here.
            key, kind = envelopes.unseal_any(
                self._private_key, sealed, run_key_aads(self._run_id)
            )
            self._keys[key_id] = key
            self.kinds[key_id] = kind
        return key

    def cipher(self, key_id: int) -> envelopes.Cipher:
        """The content key ready to open many envelopes (its AES-GCM set up once)."""
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = self._ciphers[key_id] = envelopes.Cipher(self.get(key_id))
        return cipher


INTEGRITY_MESSAGE = (
    "The stored data of this run failed its integrity check, so nothing was decrypted."
)


def unseal_participant_id(private_key: X25519PrivateKey, run: RunSession) -> str:
    try:
        raw = envelopes.unseal(private_key, run.participant_id_sealed, participant_aad(run.id))
        return raw.decode()
    except (envelopes.DecryptionError, UnicodeDecodeError) as exc:
        raise Corrupted(INTEGRITY_MESSAGE) from exc


def iter_trials(
    s: Session, keys: RunKeys, run_id: str, batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """Decrypted trials in trial_index order, fetched in batches (memory stays flat)."""
    for page in trial_pages(s, keys, run_id, batch):
        yield from page


def _trial_aad_prefix(run_id: str) -> bytes:
    """trial_aad(run_id, i) is this prefix and the decimal index: built once per run."""
    prefix = trial_aad(run_id, 0)[:-1]
    if trial_aad(run_id, -12) != prefix + b"-12":  # guards against a changed AAD layout
        raise RuntimeError("trial_aad changed shape; update _trial_aad_prefix")
    return prefix


def trial_pages(
    s: Session, keys: RunKeys, run_id: str, batch: int = 2000
) -> Iterator[list[dict[str, Any]]]:
    """Decrypted trials in trial_index order, a page (up to `batch`) at a time. Each one is
    authenticated with its own row's AAD (run id and trial index), exactly as iter_trials."""
    fetch_page = trial_page_fetcher(s)
    prefix = _trial_aad_prefix(run_id)
    last, key_id, cipher = -1, None, None
    try:
        while True:
            rows = fetch_page(run_id, last, batch)
            if not rows:
                return
            page: list[dict[str, Any]] = []
            for idx, row_key_id, blob in rows:
                if row_key_id != key_id:
                    key_id, cipher = row_key_id, keys.cipher(row_key_id)
                plain = cipher.decrypt(blob, b"%s%d" % (prefix, idx))  # type: ignore[union-attr]
                page.append(loads_exact(plain))
            last = rows[-1][0]
            yield page
            if len(rows) < batch:  # a short page is the last: saves a query per run
                return
    finally:
        fetch_page.close()


def read_envelope(s: Session, keys: RunKeys, run_id: str, kind: str) -> dict[str, Any] | None:
    env = s.scalar(
        select(ResultEnvelope).where(ResultEnvelope.run_id == run_id, ResultEnvelope.kind == kind)
    )
    if env is None:
        return None
    return open_envelope(keys, run_id, kind, env.key_id, env.ciphertext)


def open_envelope(
    keys: RunKeys, run_id: str, kind: str, key_id: int, ciphertext: bytes
) -> dict[str, Any]:
    """A result envelope's content, authenticated as this run's envelope of this kind."""
    return json.loads(envelopes.decrypt(keys.get(key_id), ciphertext, result_aad(run_id, kind)))


VERIFIED = "verified"
UNVERIFIED = "unverified: recorded before run binding"


class IntegrityError(envelopes.DecryptionError):
    """The database does not match what the run's sealed manifest says it must be."""


# Built once (an export checks every run): plain Core statements, no ORM loads.
_VERIFY_RUN = select(
    RunSession.study_id,
    RunSession.config_version_id,
    RunSession.participant_key,
    RunSession.status,
    RunSession.trial_count,
    RunSession.bound,
    RunSession.manifest,
    RunSession.manifest_key_id,
    RunSession.participant_id_sealed,
).where(RunSession.id == bindparam("b_run"))
_VERIFY_KEYS = select(RunKey.id).where(RunKey.run_id == bindparam("b_run"))
_SALT = "cogflow_participant_salt"


def verify_run(s: Session, keys: RunKeys, run_id: str, *, check_trials: bool = True) -> str:
    """Check the run's plaintext columns, rows and keys against its sealed manifest.

    `check_trials=False` (a salvage export of a damaged database) leaves out the check of the
    trial rows' indices; the caller then authenticates and accounts for each trial itself.

    Returns VERIFIED, or UNVERIFIED for a run recorded before manifests existed (every content
    key sealed the old way, and no manifest: a bound run cannot be turned into one of those
    without its content keys). Raises IntegrityError (a DecryptionError) naming the mismatch."""
    conn = s.connection()
    run = conn.execute(_VERIFY_RUN, {"b_run": run_id}).first()
    if run is None:
        raise NotFound("Run session not found.")
    key_ids = [k for (k,) in conn.execute(_VERIFY_KEYS, {"b_run": run_id})]
    for key_id in key_ids:
        keys.get(key_id)
    bound_keys = [k for k in key_ids if keys.kinds[k] != LEGACY_KEY_KIND]
    if not bound_keys:
        if run.bound or run.manifest is not None:
            raise IntegrityError("the run's binding was changed")
        _check_participant(s, keys, run_id, run.participant_id_sealed, run.participant_key)
        return UNVERIFIED
    if len(bound_keys) != len(key_ids):
        raise IntegrityError("a key of the old kind was added to a bound run")
    if run.manifest is None or run.manifest_key_id not in bound_keys:
        raise IntegrityError("the run's manifest is missing")
    m = manifest.open_manifest(keys.get(run.manifest_key_id), run.manifest, run_id)
    expected = (m.study, m.config_version, m.participant_key, m.status, m.trial_count)
    found = (run.study_id, run.config_version_id, run.participant_key, run.status, run.trial_count)
    names = ("study", "config version", "participant_key", "status", "trial_count")
    for name, want, have in zip(names, expected, found, strict=True):
        if want != have:
            raise IntegrityError(f"the run's {name} was changed")
    if not run.bound:
        raise IntegrityError("the run's binding was changed")
    fingerprints = {k: manifest.fingerprint(keys.get(k)) for k in key_ids}
    if dict(m.keys) != fingerprints:
        raise IntegrityError("the run's content keys were changed")
    if check_trials and manifest.trial_ranges(s, run_id) != m.trials:
        raise IntegrityError("trial rows were added, removed or moved")
    if manifest.envelope_digests(s, run_id) != dict(m.envelopes):
        raise IntegrityError("a result envelope was removed or replaced")
    _check_participant(s, keys, run_id, run.participant_id_sealed, run.participant_key)
    return VERIFIED


def _check_participant(
    s: Session, keys: RunKeys, run_id: str, sealed: bytes, participant_key: str
) -> None:
    """The sealed participant id must give the run's participant_key (a participant id anyone
    sealed to the public key would give another)."""
    salt = s.info.get(_SALT)
    if salt is None:  # read once per session (it never changes)
        salt = s.info[_SALT] = s.scalar(select(InstallKeys.participant_salt)) or ""
    pid = envelopes.unseal(keys.private_key, sealed, participant_aad(run_id))
    try:
        key = pseudonyms.participant_key(salt, pid.decode())
    except UnicodeDecodeError as exc:
        raise IntegrityError("the participant id is malformed") from exc
    if key != participant_key:
        raise IntegrityError("the participant id does not match participant_key")


def check_run(s: Session, keys: RunKeys, run_id: str) -> str:
    """verify_run for callers that stop on a failure (export): a Corrupted naming the run."""
    try:
        return verify_run(s, keys, run_id)
    except (envelopes.DecryptionError, ValueError) as exc:
        raise Corrupted(
            f"Run {run_id} failed its integrity check ({_reason(exc)}), so nothing of it was read."
        ) from exc


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, IntegrityError) else "a stored ciphertext did not verify"


def decrypt_run(
    s: Session, private_key: X25519PrivateKey, run_id: str, include_trials: bool
) -> dict[str, Any]:
    """The run's result as the contract's decrypt answer. A run without a final result (still
    running, or interrupted) answers with its latest checkpoint, so no collected data is hidden."""
    try:
        return _decrypt_run(s, private_key, run_id, include_trials)
    except (envelopes.DecryptionError, ValueError) as exc:
        # A row moved, edited or damaged on disk (or content that is not the JSON we wrote):
        # say so plainly (the caller audits it).
        if isinstance(exc, IntegrityError):
            raise Corrupted(
                f"The stored data of this run failed its integrity check ({exc}), so nothing "
                "was decrypted."
            ) from exc
        raise Corrupted(INTEGRITY_MESSAGE) from exc


def _decrypt_run(
    s: Session, private_key: X25519PrivateKey, run_id: str, include_trials: bool
) -> dict[str, Any]:
    run = s.get(RunSession, run_id)
    if run is None:
        raise NotFound("Run session not found.")
    keys = RunKeys(s, private_key, run_id)
    integrity = verify_run(s, keys, run_id)
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
        # "verified" (checked against the run's sealed manifest) or "unverified: recorded
        # before run binding" (a run recorded by a version without manifests).
        "integrity": integrity,
    }
