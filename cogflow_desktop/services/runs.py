"""Recording runs: start, checkpoint, submit. This path encrypts but can never decrypt."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from cogflow_desktop import audit
from cogflow_desktop.security import envelopes, pseudonyms
from cogflow_desktop.services import manifest
from cogflow_desktop.services.context import AFTER_COMMIT, NEW_RUN_KEYS, Context
from cogflow_desktop.services.errors import BadRequest, Conflict, NotFound
from cogflow_desktop.services.manifest import Manifest
from cogflow_desktop.store import driver
from cogflow_desktop.store.models import (
    InstallKeys,
    ResultEnvelope,
    RunKey,
    RunSession,
    TrialRecord,
    utcnow,
)
from cogflow_desktop.store.upsert import upsert

TERMINAL = ("completed", "failed")
# A checkpoint or submit with more trials than this is written in several transactions of at
# most this many, so one huge request never holds the database's write lock for seconds:
# other participants' checkpoints are stored in between (see the README's contract notes).
TRIALS_PER_TRANSACTION = 1000
# Requests for the same run are serialized in this process (a big one spans transactions).
_RUN_LOCKS = tuple(threading.Lock() for _ in range(64))


def _run_lock(run_id: str) -> threading.Lock:
    return _RUN_LOCKS[zlib.crc32(run_id.encode()) % len(_RUN_LOCKS)]


# The checkpoint path's statements (it runs once per trial), as plain SQL for the driver's
# cursor (store/driver.py): the same statements SQLAlchemy would send, without its overhead.
_RUN_STATE_SQL = "SELECT status, study_id, bound FROM run_sessions WHERE id = ?"
_TRIAL_UPSERT_SQL = (
    "INSERT INTO trial_records (run_id, trial_index, key_id, ciphertext, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, trial_index) DO UPDATE SET"
    " key_id = excluded.key_id, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at"
)
_ENVELOPE_UPSERT_SQL = (
    "INSERT INTO result_envelopes (run_id, kind, key_id, ciphertext, status, trial_count,"
    " checkpoint_label, checkpoint_index, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, kind) DO UPDATE SET"
    " key_id = excluded.key_id, ciphertext = excluded.ciphertext, status = excluded.status,"
    " trial_count = excluded.trial_count, checkpoint_label = excluded.checkpoint_label,"
    " checkpoint_index = excluded.checkpoint_index, updated_at = excluded.updated_at"
)
# trial_count only grows; a bound run's manifest is rewritten in the same statement.
_RUN_TOUCH_SQL = (
    "UPDATE run_sessions SET"
    " trial_count = CASE WHEN trial_count < ? THEN ? ELSE trial_count END,"
    " last_activity_at = ? WHERE id = ?"
)
_RUN_TOUCH_BOUND_SQL = (
    "UPDATE run_sessions SET"
    " trial_count = CASE WHEN trial_count < ? THEN ? ELSE trial_count END,"
    " last_activity_at = ?, manifest = ?, manifest_key_id = ? WHERE id = ?"
)
_STUDY_TOUCH_SQL = "UPDATE studies SET last_activity_at = ? WHERE id = ?"

# Statements of the less frequent paths, built once.
_RUN_STATE = select(RunSession.status, RunSession.study_id, RunSession.bound).where(
    RunSession.id == bindparam("b_run")
)
_MANIFEST_SET = (
    update(RunSession.__table__)
    .where(RunSession.__table__.c.id == bindparam("b_run"))
    .values(manifest=bindparam("b_manifest"), manifest_key_id=bindparam("b_key"))
)
# Manifests changed in a transaction, cached once it commits (see _bind).
STAGED_MANIFESTS = "cogflow_staged_manifests"


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def trial_aad(run_id: str, trial_index: int) -> bytes:
    return f"cogflow:trial:{run_id}:{trial_index}".encode()


def result_aad(run_id: str, kind: str) -> bytes:
    return f"cogflow:result:{run_id}:{kind}".encode()


def run_key_aad(run_id: str) -> bytes:
    """A content key of a run recorded before run binding (services/manifest.py)."""
    return f"cogflow:run-key:{run_id}".encode()


def bound_run_key_aad(run_id: str) -> bytes:
    """A content key of a bound run: a key sealed this way means the run has a manifest."""
    return f"cogflow:run-key:v2:{run_id}".encode()


def page_key_aad(run_id: str) -> bytes:
    """A content key the Interpreter page made for its sealed local buffer (results/recover)."""
    return f"cogflow:page-key:{run_id}".encode()


def run_key_aads(run_id: str) -> list[bytes]:
    """Every associated data a run's sealed content key may carry (the bound kinds first)."""
    return [bound_run_key_aad(run_id), page_key_aad(run_id), run_key_aad(run_id)]


LEGACY_KEY_KIND = 2  # run_key_aads()[2]: a key of a run recorded before run binding


def participant_aad(run_id: str) -> bytes:
    return f"cogflow:participant:{run_id}".encode()


def _install_public_key(s: Session) -> tuple[bytes, str]:
    """Read inside the writing transaction: a key rotation commits under the same write lock,
    so nothing is ever sealed to a key it has just retired."""
    install = s.execute(select(InstallKeys.public_key, InstallKeys.participant_salt)).first()
    if install is None:
        raise BadRequest(
            "This installation has no researcher yet, so results could not be sealed: "
            "create the first researcher account."
        )
    return install[0], install[1]


def _content_key(ctx: Context, s: Session, run_id: str) -> tuple[int, bytes]:
    """The run's content key from memory, or a fresh one sealed to the install key."""
    pending: dict[str, tuple[int, bytes]] = s.info.setdefault(NEW_RUN_KEYS, {})
    cached = pending.get(run_id) or ctx.run_keys.get(run_id)
    if cached is not None:
        return cached
    public_key, _salt = _install_public_key(s)
    key = envelopes.new_key()
    bound = bool(s.scalar(select(RunSession.bound).where(RunSession.id == run_id)))
    aad = bound_run_key_aad(run_id) if bound else run_key_aad(run_id)
    row = RunKey(
        run_id=run_id,
        sealed_key=envelopes.seal(public_key, key, aad),
        fingerprint=manifest.fingerprint(key) if bound else None,
    )
    s.add(row)
    s.flush()
    # Cached by Context.write() only once the row is committed.
    pending[run_id] = (row.id, key)
    return row.id, key


def _bind(
    ctx: Context,
    s: Session,
    run_id: str,
    change: Callable[[Manifest], Manifest],
    base: Manifest | None = None,
) -> None:
    """Rewrite a bound run's manifest in this transaction, sealed under its current content
    key; the writer's cached copy follows only once the transaction has committed."""
    key_id, sealed = _next_manifest(ctx, s, run_id, change, base)
    s.connection().execute(_MANIFEST_SET, {"b_run": run_id, "b_manifest": sealed, "b_key": key_id})


def _next_manifest(
    ctx: Context,
    s: Session,
    run_id: str,
    change: Callable[[Manifest], Manifest],
    base: Manifest | None = None,
) -> tuple[int, bytes]:
    """The run's changed manifest, sealed (key id, blob), staged to be cached on commit; the
    caller writes it to the run's row in this transaction."""
    key_id, key = _content_key(ctx, s, run_id)
    staged: dict[str, Manifest] = s.info.setdefault(STAGED_MANIFESTS, {})
    base = base or staged.get(run_id) or ctx.manifests.get(run_id) or manifest.rebuild(s, run_id)
    new = change(base).with_key(key_id, manifest.fingerprint(key))
    if run_id not in staged:
        s.info.setdefault(AFTER_COMMIT, []).append(lambda: ctx.manifests.put(staged[run_id]))
    staged[run_id] = new
    return key_id, new.seal(key)


# start_run's statements, for the driver's cursor: a run starts once per participant, but a
# lab starting many at once waits on these under the write lock (see the README's benchmark).
_INSTALL_KEY_SQL = "SELECT public_key, participant_salt FROM install_keys LIMIT 1"
# The study and its latest version in one query (no version: the v columns are NULL).
_STUDY_LATEST_SQL = (
    "SELECT s.id, s.slug, v.id, v.label, v.task_type, v.config FROM studies s"
    " LEFT JOIN config_versions v ON v.study_id = s.id WHERE s.slug = ?"
    " ORDER BY v.publish_seq DESC LIMIT 1"
)
_RUN_INSERT_SQL = (
    "INSERT INTO run_sessions (id, study_id, config_version_id, participant_key,"
    " participant_id_sealed, status, started_at, last_activity_at, trial_count, submit_salt,"
    " bound) VALUES (?, ?, ?, ?, ?, 'started', ?, ?, 0, ?, 1)"
)
_RUN_KEY_INSERT_SQL = (
    "INSERT INTO run_keys (run_id, sealed_key, created_at, fingerprint) VALUES (?, ?, ?, ?)"
)
_RUN_MANIFEST_SQL = "UPDATE run_sessions SET manifest = ?, manifest_key_id = ? WHERE id = ?"


def start_run(
    ctx: Context,
    study_slug: str,
    participant_external_id: str | None,
    *,
    actor: str,
    client: str | None,
) -> dict[str, Any]:
    participant = participant_external_id or f"anonymous-{uuid.uuid4().hex}"
    run_id = str(uuid.uuid4())
    now = utcnow()
    stamp = driver.sql_datetime(now)
    content_key = envelopes.new_key()
    with ctx.write() as s:
        # Plain driver statements (store/driver.py) in the same durable transaction; the
        # install key is read under the write lock, so nothing is sealed to a retired key.
        cursor = driver.Cursor(s)
        install = cursor.first(_INSTALL_KEY_SQL)
        if install is None:
            raise BadRequest(
                "This installation has no researcher yet, so results could not be sealed: "
                "create the first researcher account."
            )
        public_key, salt = install
        found = cursor.first(_STUDY_LATEST_SQL, (study_slug,))
        if found is None:
            raise NotFound("Study not found.")
        study_id, slug, version_id, label, task_type, config = found
        if version_id is None:
            raise BadRequest("This study has no published config.")
        participant_key = pseudonyms.participant_key(salt, participant)
        sealed_participant = envelopes.seal(
            public_key, participant.encode(), participant_aad(run_id)
        )
        cursor.execute(
            _RUN_INSERT_SQL,
            (run_id, study_id, version_id, participant_key, sealed_participant, stamp, stamp,
             os.urandom(16)),
        )  # fmt: skip
        sealed_key = envelopes.seal(public_key, content_key, bound_run_key_aad(run_id))
        cursor.execute(
            _RUN_KEY_INSERT_SQL,
            (run_id, sealed_key, stamp, manifest.fingerprint(content_key)),
        )
        key_id = _last_row_id(s, cursor)
        # Cached by Context.write() only once the row is committed (as _content_key does).
        s.info.setdefault(NEW_RUN_KEYS, {})[run_id] = (key_id, content_key)
        cursor.execute(_STUDY_TOUCH_SQL, (stamp, study_id))
        first = Manifest(
            run=run_id,
            study=study_id,
            config_version=version_id,
            participant_key=participant_key,
            status="started",
            trial_count=0,
        )
        manifest_key, sealed = _next_manifest(ctx, s, run_id, lambda m: m, base=first)
        cursor.execute(_RUN_MANIFEST_SQL, (sealed, manifest_key, run_id))
        cursor.close()
        audit.record(
            s,
            "run.start",
            actor=actor,
            client=client,
            target=run_id,
            details={"study_slug": slug, "config_version_label": label},
        )
        return {
            "run_session_id": run_id,
            "study_slug": slug,
            "config_version_id": version_id,
            "config_version_label": label,
            "task_type": task_type,
            "config": json.loads(config),
            "participant_key": participant_key,
            # The install's public key: the page seals what it must keep locally to it
            # (resources/interpreter/sealing.js), readable only like every other result.
            "seal_public_key": base64.b64encode(public_key).decode("ascii"),
        }


def _last_row_id(s: Session, cursor: driver.Cursor) -> int:
    """The id SQLite gave the row this connection inserted last."""
    found = cursor.first("SELECT last_insert_rowid()")
    assert found is not None
    return int(found[0])


def _compact_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, as _json_bytes but ~10× faster (a submit holds hundreds of
    trials): the text can differ only in how a float's exponent is spelled (1e-05 / 1e-5),
    never in the value read back. Integers beyond 64 bits, which orjson cannot write, take
    json."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _json_bytes(value)


def _trial_ciphertext(cipher: envelopes.Cipher, run_id: str, trial: dict[str, Any]) -> bytes:
    return cipher.encrypt(_compact_json(trial), trial_aad(run_id, trial["trial_index"]))


def _encrypt_trials(
    run_id: str, key_id: int, key: bytes, trials: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    now = utcnow()
    cipher = envelopes.Cipher(key)
    return [
        {
            "run_id": run_id,
            "trial_index": t["trial_index"],
            "key_id": key_id,
            "ciphertext": _trial_ciphertext(cipher, run_id, t),
            "created_at": now,
            "updated_at": now,
        }
        for t in trials
    ]


def _write_rows(s: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or replace trial rows (a submit writes hundreds): one driver executemany."""
    if not rows:
        return
    stamps: dict[datetime, str] = {}  # the rows of one request share one or two times

    def stamp(when: datetime) -> str:
        text = stamps.get(when)
        if text is None:
            text = stamps[when] = driver.sql_datetime(when)
        return text

    cursor = driver.Cursor(s)
    cursor.execute_many(
        _TRIAL_UPSERT_SQL,
        [
            (r["run_id"], r["trial_index"], r["key_id"], r["ciphertext"],
             stamp(r["created_at"]), stamp(r["updated_at"]))
            for r in rows
        ],
    )  # fmt: skip
    cursor.close()


def _write_leading_pieces(
    ctx: Context, run_id: str, trials: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], str | None]:
    """For a request with many trials: write all but its last piece, a bounded transaction
    per piece, encrypting each piece before taking the lock when the run's key is known.

    Returns the trials left for the caller's final transaction, and the run's status if it
    turned out to be finished (then nothing more was written)."""
    if len(trials) <= TRIALS_PER_TRANSACTION:
        return trials, None
    split = len(trials) - TRIALS_PER_TRANSACTION
    cached = ctx.run_keys.get(run_id)
    for start in range(0, split, TRIALS_PER_TRANSACTION):
        piece = trials[start : min(start + TRIALS_PER_TRANSACTION, split)]
        rows = _encrypt_trials(run_id, *cached, piece) if cached else None
        with ctx.write() as s:
            found = s.connection().execute(_RUN_STATE, {"b_run": run_id}).first()
            if found is None:
                raise NotFound("Run session not found.")
            if found[0] in TERMINAL:
                return trials, found[0]
            if rows is None:
                rows = _encrypt_trials(run_id, *_content_key(ctx, s, run_id), piece)
            _write_rows(s, rows)
            if found[2]:
                written = [r["trial_index"] for r in rows]
                _bind(ctx, s, run_id, lambda m, w=written, k=rows[0]["key_id"]: m.with_trials(w, k))
        cached = cached or ctx.run_keys.get(run_id)
    return trials[split:], None


def _load_run(s: Session, run_id: str) -> RunSession:
    run = s.get(RunSession, run_id)
    if run is None:
        raise NotFound("Run session not found.")
    return run


@dataclass(frozen=True)
class CheckpointRequest:
    run_session_id: str
    checkpoint_label: str
    checkpoint_index: int
    trial_count: int
    result_payload: dict[str, Any]
    trials: list[dict[str, Any]]


def checkpoint(
    ctx: Context, req: CheckpointRequest, *, actor: str, client: str | None
) -> dict[str, Any]:
    with _run_lock(req.run_session_id):
        return _checkpoint(ctx, req, actor=actor, client=client)


def _checkpoint(
    ctx: Context, req: CheckpointRequest, *, actor: str, client: str | None
) -> dict[str, Any]:
    run_id = req.run_session_id
    last_piece, _finished = _write_leading_pieces(ctx, run_id, req.trials)
    now = utcnow()
    stamp = driver.sql_datetime(now)
    with ctx.write() as s:
        # The hot path (one call per trial): plain driver statements (store/driver.py), the
        # run's row touched and its manifest rewritten in one UPDATE.
        cursor = driver.Cursor(s)
        found = cursor.first(_RUN_STATE_SQL, (run_id,))
        if found is None:
            raise NotFound("Run session not found.")
        status, study_id, bound = found
        if status in TERMINAL:
            audit.record(
                s,
                "run.checkpoint",
                actor=actor,
                client=client,
                target=run_id,
                outcome="refused",
                details={"reason": "run_already_terminal"},
            )
            return {
                "run_session_id": run_id,
                "stored": False,
                "reason": "run_already_terminal",
                "status": status,
            }
        key_id, key = _content_key(ctx, s, run_id)
        cipher = envelopes.Cipher(key)
        cursor.execute_many(
            _TRIAL_UPSERT_SQL,
            [
                (run_id, t["trial_index"], key_id, _trial_ciphertext(cipher, run_id, t), stamp,
                 stamp)
                for t in last_piece
            ],
        )
        envelope = cipher.encrypt(
            _json_bytes({"result_payload": req.result_payload}), result_aad(run_id, "checkpoint")
        )
        cursor.execute(
            _ENVELOPE_UPSERT_SQL,
            (run_id, "checkpoint", key_id, envelope, "started", req.trial_count,
             req.checkpoint_label, req.checkpoint_index, stamp, stamp),
        )  # fmt: skip
        count = req.trial_count
        if bound:
            indices = [t["trial_index"] for t in last_piece]
            manifest_key, sealed = _next_manifest(
                ctx,
                s,
                run_id,
                lambda m: m.with_trials(indices, key_id)
                .with_envelope("checkpoint", key_id, envelope)
                .with_state("started", max(m.trial_count, count)),
            )
            cursor.execute(
                _RUN_TOUCH_BOUND_SQL, (count, count, stamp, sealed, manifest_key, run_id)
            )
        else:
            cursor.execute(_RUN_TOUCH_SQL, (count, count, stamp, run_id))
        cursor.execute(_STUDY_TOUCH_SQL, (stamp, study_id))
        cursor.close()
        audit.record(
            s,
            "run.checkpoint",
            actor=actor,
            client=client,
            target=run_id,
            details={"checkpoint_index": req.checkpoint_index, "trials": len(req.trials)},
        )
        return {
            "run_session_id": run_id,
            "stored": True,
            "status": status,
            "checkpoint_index": req.checkpoint_index,
            "trial_records_stored": len(req.trials),
        }


@dataclass(frozen=True)
class SubmitRequest:
    run_session_id: str
    status: str
    trial_count: int
    result_summary: dict[str, Any]
    result_payload: dict[str, Any]
    trials: list[dict[str, Any]]

    def _parts(self) -> list[Any]:
        return [
            self.status, self.trial_count, self.result_summary, self.result_payload, self.trials
        ]  # fmt: skip

    def digest(self, salt: bytes) -> str:
        """What a retry must match, stored with the final result."""
        return hashlib.sha256(salt + _compact_json(self._parts())).hexdigest()

    def matches(self, salt: bytes, stored: str | None) -> bool:
        """Is this the submit that stored `stored`? Runs finished by an earlier version have
        the digest of json's text (not orjson's): a retry of theirs is still recognised."""
        if stored is None:
            return False
        if self.digest(salt) == stored:
            return True
        return hashlib.sha256(salt + _json_bytes(self._parts())).hexdigest() == stored


def submit(ctx: Context, req: SubmitRequest, *, actor: str, client: str | None) -> dict[str, Any]:
    """Store the final result once. An identical resubmission is a retry and gets the same
    answer; a different one for a finished run is refused, so nothing is ever overwritten."""
    with _run_lock(req.run_session_id):
        return _submit(ctx, req, actor=actor, client=client)


@dataclass
class _FinalRows:
    """A submit's rows, encrypted under one content key (before the write lock when the run's
    key is in memory: the lock is then held only for statements, manifest and commit)."""

    key_id: int
    trials: list[tuple[Any, ...]]
    envelope: bytes
    digest_text: bytes  # what SubmitRequest.digest() hashes, salted once the run is read


def _final_rows(
    run_id: str, key_id: int, key: bytes, req: SubmitRequest, trials: list[dict[str, Any]],
    stamp: str, digest_text: bytes,
) -> _FinalRows:  # fmt: skip
    cipher = envelopes.Cipher(key)
    content = {"result_payload": req.result_payload, "result_summary": req.result_summary}
    return _FinalRows(
        key_id,
        [
            (run_id, t["trial_index"], key_id, _trial_ciphertext(cipher, run_id, t), stamp, stamp)
            for t in trials
        ],
        cipher.encrypt(_json_bytes(content), result_aad(run_id, "final")),
        digest_text,
    )


_RUN_SUBMIT_STATE_SQL = (
    "SELECT status, study_id, bound, submit_salt, submit_digest FROM run_sessions WHERE id = ?"
)
_FINAL_ENVELOPE_ID_SQL = "SELECT id FROM result_envelopes WHERE run_id = ? AND kind = 'final'"
_RUN_FINISH_SQL = (
    "UPDATE run_sessions SET status = ?, completed_at = ?, last_activity_at = ?,"
    " trial_count = ?, submit_digest = ? WHERE id = ?"
)
_RUN_FINISH_BOUND_SQL = (
    "UPDATE run_sessions SET status = ?, completed_at = ?, last_activity_at = ?,"
    " trial_count = ?, submit_digest = ?, manifest = ?, manifest_key_id = ? WHERE id = ?"
)


def _submit(ctx: Context, req: SubmitRequest, *, actor: str, client: str | None) -> dict[str, Any]:
    run_id = req.run_session_id
    last_piece = req.trials
    if len(req.trials) > TRIALS_PER_TRANSACTION:
        with ctx.read() as s:
            status = s.scalar(select(RunSession.status).where(RunSession.id == run_id))
        if status is None:
            raise NotFound("Run session not found.")
        if status not in TERMINAL:  # a finished run is answered below, nothing written
            last_piece, _finished = _write_leading_pieces(ctx, run_id, req.trials)
    now = utcnow()
    stamp = driver.sql_datetime(now)
    digest_text = _compact_json(req._parts())
    cached = ctx.run_keys.get(run_id)
    rows = _final_rows(run_id, *cached, req, last_piece, stamp, digest_text) if cached else None
    with ctx.write() as s:
        # Plain driver statements (store/driver.py), as on the checkpoint path.
        cursor = driver.Cursor(s)
        found = cursor.first(_RUN_SUBMIT_STATE_SQL, (run_id,))
        if found is None:
            raise NotFound("Run session not found.")
        status, study_id, bound, salt, stored_digest = found
        if status not in TERMINAL:
            return _store_final(
                ctx, s, cursor, req, rows, (status, study_id, bound, salt), stamp, last_piece,
                digest_text, actor=actor, client=client,
            )  # fmt: skip
        final = cursor.first(_FINAL_ENVELOPE_ID_SQL, (run_id,))
        cursor.close()
        if req.matches(salt, stored_digest):
            audit.record(
                s, "run.submit", actor=actor, client=client, target=run_id, details={"retry": True}
            )
            return _submit_answer(run_id, status, req, None if final is None else final[0])
        # Refused: the audit row is committed with this transaction, then the caller is told.
        audit.record(
            s,
            "run.submit",
            actor=actor,
            client=client,
            target=run_id,
            outcome="refused",
            details={"reason": "different result"},
        )
    raise Conflict(
        f"This run is already {status} with a different result; "
        "a stored result is never overwritten."
    )


def _store_final(
    ctx: Context,
    s: Session,
    cursor: driver.Cursor,
    req: SubmitRequest,
    rows: _FinalRows | None,
    run: tuple[str, int, int, bytes],
    stamp: str,
    last_piece: list[dict[str, Any]],
    digest_text: bytes,
    *,
    actor: str,
    client: str | None,
) -> dict[str, Any]:
    """The final result of a run not finished yet, in the caller's write transaction."""
    run_id = req.run_session_id
    _status, study_id, bound, salt = run
    key_id, key = _content_key(ctx, s, run_id)
    if rows is None or rows.key_id != key_id:
        rows = _final_rows(run_id, key_id, key, req, last_piece, stamp, digest_text)
    cursor.execute_many(_TRIAL_UPSERT_SQL, rows.trials)
    cursor.execute(
        _ENVELOPE_UPSERT_SQL,
        (run_id, "final", key_id, rows.envelope, req.status, req.trial_count, None, None,
         stamp, stamp),
    )  # fmt: skip
    digest = hashlib.sha256(salt + rows.digest_text).hexdigest()
    finish = (req.status, stamp, stamp, req.trial_count, digest)
    if bound:
        indices = [t["trial_index"] for t in last_piece]
        manifest_key, sealed = _next_manifest(
            ctx,
            s,
            run_id,
            lambda m: (
                m.with_trials(indices, key_id)
                .with_envelope("final", key_id, rows.envelope)
                .with_state(req.status, req.trial_count)
            ),
        )
        cursor.execute(_RUN_FINISH_BOUND_SQL, (*finish, sealed, manifest_key, run_id))
    else:
        cursor.execute(_RUN_FINISH_SQL, (*finish, run_id))
    cursor.execute(_STUDY_TOUCH_SQL, (stamp, study_id))
    envelope_id = cursor.first(_FINAL_ENVELOPE_ID_SQL, (run_id,))
    cursor.close()
    audit.record(
        s,
        "run.submit",
        actor=actor,
        client=client,
        target=run_id,
        details={"status": req.status, "trials": len(req.trials)},
    )
    ctx.run_keys.forget(run_id)
    return _submit_answer(run_id, req.status, req, None if envelope_id is None else envelope_id[0])


def _submit_answer(
    run_id: str, status: str, req: SubmitRequest, envelope_id: int | None
) -> dict[str, Any]:
    return {
        "run_session_id": run_id,
        "status": status,
        "stored": True,
        "trial_records_stored": len(req.trials),
        "result_envelope_id": envelope_id,
    }


@dataclass(frozen=True)
class RecoverRequest:
    """A page's sealed local buffer (resources/interpreter/sealing.js), handed over as is."""

    run_session_id: str
    sealed_key: bytes  # the page's content key sealed to the install key (page_key_aad)
    key_fingerprint: str  # manifest.fingerprint() of that key, computed by the page
    trial_count: int
    trials: list[tuple[int, bytes]]  # (trial_index, ciphertext under the page's key)
    result_payload_sealed: bytes | None  # {"result_payload": ...} as a checkpoint envelope


def recover_sealed(
    ctx: Context, req: RecoverRequest, *, actor: str, client: str | None
) -> dict[str, Any]:
    """Store what an earlier page could not deliver, still sealed: the page's key as one more
    content key of the run, each trial not stored yet as a row under it, the payload as the
    run's checkpoint envelope when it has no final result. Nothing is decrypted here (the
    recording path cannot); rows the server already has are never replaced."""
    with _run_lock(req.run_session_id), ctx.write() as s:
        run = _load_run(s, req.run_session_id)
        if run.status in TERMINAL:
            audit.record(
                s, "run.recover", actor=actor, client=client, target=run.id, outcome="refused",
                details={"reason": "run_already_terminal"},
            )  # fmt: skip
            return {"run_session_id": run.id, "stored": False, "reason": "run_already_terminal"}
        if not run.bound:
            raise BadRequest("This run was recorded by an earlier version without sealed buffers.")
        have = set(
            s.scalars(select(TrialRecord.trial_index).where(TrialRecord.run_id == run.id))
        )
        fresh = [(i, blob) for i, blob in req.trials if i not in have]
        payload = req.result_payload_sealed
        if not fresh and payload is None:
            return {"run_session_id": run.id, "stored": True, "trial_records_stored": 0}
        page_key = RunKey(run_id=run.id, sealed_key=req.sealed_key, fingerprint=req.key_fingerprint)
        s.add(page_key)
        s.flush()
        now = utcnow()
        _write_rows(
            s,
            [
                {"run_id": run.id, "trial_index": i, "key_id": page_key.id, "ciphertext": blob,
                 "created_at": now, "updated_at": now}
                for i, blob in fresh
            ],
        )  # fmt: skip
        if payload is not None:
            upsert(
                s,
                ResultEnvelope,
                [{"run_id": run.id, "kind": "checkpoint", "key_id": page_key.id,
                  "ciphertext": payload, "status": "started", "trial_count": req.trial_count,
                  "checkpoint_label": "recovered", "checkpoint_index": None,
                  "created_at": now, "updated_at": now}],
                conflict=("run_id", "kind"),
            )  # fmt: skip
        count = max(run.trial_count, req.trial_count)
        run.trial_count = count
        run.last_activity_at = now
        s.flush()

        def change(m: Manifest) -> Manifest:
            m = m.with_key(page_key.id, req.key_fingerprint)
            m = m.with_trials([i for i, _ in fresh], page_key.id)
            if payload is not None:
                m = m.with_envelope("checkpoint", page_key.id, payload)
            return m.with_state("started", max(m.trial_count, req.trial_count))

        _bind(ctx, s, run.id, change)
        audit.record(
            s, "run.recover", actor=actor, client=client, target=run.id,
            details={"trials": len(fresh), "already_stored": len(req.trials) - len(fresh),
                     "payload": payload is not None},
        )  # fmt: skip
        return {"run_session_id": run.id, "stored": True, "trial_records_stored": len(fresh)}
