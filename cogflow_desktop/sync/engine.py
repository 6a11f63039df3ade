"""The sync engine: every run not yet acknowledged goes to the central server, once.

Per run, each step is recorded durably before the next one starts, so a retry (or a restart
after a crash) resumes where it stopped:

1. publish the run's config version (once per sync, logged in, so the study has an owner; the
   slug, label, version id and owners the server answered are recorded durably),
2. pin the run to that version: a participant link with a strict task order of just that
   version (`studies/<slug>/participant-links`), then `runs/start` with its launch token; the
   version the answer names is checked against the one meant before anything else is sent, and
   the remote run_session_id and version are recorded at once. The link itself holds nothing to
   resume (a stopped sync asks for a new one), so it is not stored. Start is not idempotent on
   the server: a crash after the server answered but before the id was recorded leaves an
   orphan remote run with no result. That costs an empty run on the server, never a doubled
   result;
3. the trials in pieces under the request size limit (`results/checkpoint`), each recorded as
   acknowledged; the server upserts trial rows by trial_index, so a resent piece is harmless,
4. `results/submit` carrying only the last piece when it is small, else `trials: []` (the
   server keeps the checkpointed rows), the same bytes on every retry; then the run is
   acknowledged. A run of a few hundred trials thus costs two requests: start and submit.

Transient failures are retried with backoff; a permanent one fails that run with the server's
reason and the others go on. Runs go in parallel on a bounded pool. Nothing local is deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select

from cogflow_desktop.services.context import Context
from cogflow_desktop.store.models import RunSession, SyncState
from cogflow_desktop.sync import material, retry, sent_ledger, state
from cogflow_desktop.sync.client import MAX_REQUEST_BYTES, CentralClient, RemoteError, encode
from cogflow_desktop.sync.pieces import (
    DEFAULT_PIECE_BYTES,
    ENVELOPE_ALLOWANCE,
    REMAINDER_BYTES,
    Piece,
    TrialTooLarge,
    cut,
)
from cogflow_desktop.sync.progress import Progress, ProgressCallback, RunFailure, SyncReport

log = logging.getLogger(__name__)


class SyncError(Exception):
    """The sync as a whole could not run (no login, server unreachable, login refused)."""


# Why sync never runs anonymously (the CLI and the app say it in their own words around it).
ANONYMOUS_REASON = (
    "without a login the central server creates a study with no owner, so every researcher "
    "there sees it and nobody can open its runs or reports"
)
ANONYMOUS_REFUSAL = f"Sync needs a researcher account on the central server: {ANONYMOUS_REASON}."


@dataclass(frozen=True)
class SyncOptions:
    workers: int = 4
    piece_bytes: int = DEFAULT_PIECE_BYTES
    retry: retry.RetryPolicy = field(default_factory=retry.RetryPolicy)
    retry_failed: bool = False  # also retry runs that failed permanently before
    # An interrupted run is sent once it has been quiet this long (it may still be live).
    interrupted_quiet_seconds: float = 600.0


RemoteConfig = state.Published


class _Published:
    """Each config version is published once per sync, by whichever run needs it first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._done: dict[int, RemoteConfig | RemoteError] = {}

    def get(self, config_id: int, publish: Any) -> RemoteConfig:
        with self._lock:
            lock = self._locks.setdefault(config_id, threading.Lock())
        with lock:
            if config_id not in self._done:
                try:
                    self._done[config_id] = publish()
                except RemoteError as exc:
                    if exc.retryable:
                        raise  # the next run that needs it tries again
                    self._done[config_id] = exc  # refused: the same answer for every run
            done = self._done[config_id]
        if isinstance(done, RemoteError):
            raise done
        return done


class _Meter:
    """Thread-safe progress counters feeding the callback."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self._lock = threading.Lock()
        self._callback = callback
        self.runs_total = total
        self.runs_done = 0
        self.bytes_done = 0
        self.bytes_total = 0

    def add(
        self,
        *,
        runs: int = 0,
        sent: int = 0,
        planned: int = 0,
        run_id: str | None = None,
        state_name: str | None = None,
    ) -> None:
        with self._lock:
            self.runs_done += runs
            self.bytes_done += sent
            self.bytes_total += planned
            snapshot = Progress(
                self.runs_done,
                self.runs_total,
                self.bytes_done,
                self.bytes_total,
                run_id,
                state_name,
            )
        if self._callback is not None:
            self._callback(snapshot)


class SyncEngine:
    def __init__(
        self,
        ctx: Context,
        client: CentralClient,
        private_key: X25519PrivateKey,
        *,
        actor: str,
        options: SyncOptions | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.private_key = private_key
        self.actor = actor
        self.options = options or SyncOptions()
        self.progress = progress
        self.cancel = cancel or threading.Event()
        self._published = _Published()
        self.account = client.credentials.username if client.credentials else ""

    @property
    def server_url(self) -> str:
        return self.client.base_url

    def run(self, run_ids: Iterable[str] | None = None) -> SyncReport:
        """Sync the due runs (or the given ones) and say how each ended."""
        if self.client.credentials is None:
            state.record_session(
                self.ctx,
                actor=self.actor,
                server_url=self.server_url,
                outcome="denied",
                details={"reason": ANONYMOUS_REFUSAL},
            )
            raise SyncError(ANONYMOUS_REFUSAL)
        # Runs sent from a damaged database's copy are not sent twice (sync/sent_ledger.py).
        try:
            sent_ledger.adopt(self.ctx, self.server_url, self.actor)
        except sent_ledger.LedgerUnreadable as exc:
            raise SyncError(str(exc)) from exc
        due = state.due_runs(
            self.ctx,
            self.server_url,
            retry_failed=self.options.retry_failed,
            interrupted_quiet_seconds=self.options.interrupted_quiet_seconds,
        )
        wanted = set(due.run_ids)
        ids = due.run_ids if run_ids is None else [r for r in run_ids if r in wanted]
        report = SyncReport(self.server_url, runs_total=len(ids), elsewhere=due.elsewhere)
        meter = _Meter(len(ids), self.progress)
        meter.add()
        if not ids:
            return report
        try:
            # A server that is not there at all is reported after a few quick tries.
            quick = dataclasses.replace(self.options.retry, max_attempts=3)
            retry.call(self.client.health, quick, self.cancel)
            retry.call(self.client.connect, self.options.retry, self.cancel)
            self._check_login()
        except RemoteError as exc:
            if exc.status is None:
                message = f"Could not reach the server at {self.server_url}: {exc.reason}"
            else:
                message = f"The server at {self.server_url} refused the sync. {exc.reason}"
            state.record_session(
                self.ctx,
                actor=self.actor,
                server_url=self.server_url,
                outcome="failed",
                details={"runs": len(ids), "reason": message},
            )
            raise SyncError(message) from exc
        except retry.Cancelled:
            report.cancelled = len(ids)
            return report
        state.prepare(self.ctx, ids)
        self._publish_in_order(ids)
        workers = max(1, min(self.options.workers, len(ids)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cogflow-sync") as pool:
            futures = {pool.submit(self._sync_one, run_id, meter): run_id for run_id in ids}
            for future in as_completed(futures):
                outcome = future.result()
                if outcome is None:
                    report.acknowledged += 1
                elif isinstance(outcome, RunFailure):
                    report.failed.append(outcome)
                else:
                    report.cancelled += 1
        report.bytes_sent = meter.bytes_done
        state.record_session(
            self.ctx,
            actor=self.actor,
            server_url=self.server_url,
            outcome="ok" if report.ok else "partial",
            details={
                "runs": report.runs_total,
                "acknowledged": report.acknowledged,
                "failed": len(report.failed),
                "cancelled": report.cancelled,
            },
        )
        return report

    def _check_login(self) -> None:
        """The server must know us as the account we logged in with (HTTP Basic has no login
        call, and a server may accept a login without making a session)."""
        me = retry.call(self.client.me, self.options.retry, self.cancel)
        if me.get("authenticated") is False or not me.get("username"):
            raise RemoteError(
                f"The server did not log {self.account} in.", status=401, retryable=False
            )
        self.account = str(me["username"])

    # --- publishing -----------------------------------------------------------------------

    def _publish_in_order(self, run_ids: list[str]) -> None:
        """Publish the versions new runs need, oldest first, so that on a server which starts
        runs with the latest version, the latest stays the one that is latest here too. A
        failure here is not final: the run that needs the version tries again and reports it."""
        refs: dict[int, material.ConfigRef] = {}
        with self.ctx.read() as s:
            for i in range(0, len(run_ids), 500):
                runs = s.scalars(
                    select(RunSession)
                    .outerjoin(SyncState, SyncState.run_id == RunSession.id)
                    .where(
                        RunSession.id.in_(run_ids[i : i + 500]),
                        SyncState.remote_run_session_id.is_(None),
                    )
                ).all()
                for run in runs:
                    if run.config_version_id not in refs:
                        refs[run.config_version_id] = material.config_ref(run)
        for ref in sorted(refs.values(), key=lambda r: r.publish_seq):
            if self.cancel.is_set():
                return
            with contextlib.suppress(RemoteError, retry.Cancelled):
                self._remote_config(ref)

    def _remote_config(self, ref: material.ConfigRef) -> RemoteConfig:
        def publish() -> RemoteConfig:
            answer = retry.call(
                lambda: self.client.publish(ref.publish_body()), self.options.retry, self.cancel
            )
            published = _published_from(answer, ref)
            state.record_published(
                self.ctx,
                server_url=self.server_url,
                config_version_id=ref.config_version_id,
                published=published,
                account=self.account,
                actor=self.actor,
            )
            return published

        try:
            return self._published.get(ref.config_version_id, publish)
        except RemoteError as exc:
            raise RemoteError(
                f"Publishing config {ref.study_slug}/{ref.label} failed. {exc.reason}",
                status=exc.status,
                retryable=exc.retryable,
            ) from exc

    # --- one run --------------------------------------------------------------------------

    def _sync_one(self, run_id: str, meter: _Meter) -> RunFailure | retry.Cancelled | None:
        if self.cancel.is_set():
            return retry.Cancelled()
        try:
            self._steps(run_id, meter)
        except retry.Cancelled as exc:
            return exc
        except RemoteError as exc:
            return self._fail(run_id, exc.reason, exc.retryable, meter)
        except TrialTooLarge as exc:
            return self._fail(run_id, str(exc), False, meter)
        except Exception as exc:  # a bug or a local problem must not stop the other runs
            log.exception("sync of run %s failed", run_id)
            return self._fail(run_id, f"Unexpected error on this computer: {exc}.", True, meter)
        meter.add(runs=1, run_id=run_id, state_name=state.ACKNOWLEDGED)
        return None

    def _fail(self, run_id: str, reason: str, retryable: bool, meter: _Meter) -> RunFailure:
        state.record_failed(
            self.ctx,
            run_id,
            reason=reason,
            retryable=retryable,
            actor=self.actor,
            server_url=self.server_url,
        )
        meter.add(runs=1, run_id=run_id, state_name=state.FAILED)
        return RunFailure(run_id, reason, retryable)

    def _call(self, fn: Any) -> dict[str, Any]:
        return retry.call(fn, self.options.retry, self.cancel)

    def _steps(self, run_id: str, meter: _Meter) -> None:
        snap = state.load(self.ctx, run_id)
        mat = material.load(self.ctx, self.private_key, run_id)
        plan = plan_requests(mat, self.options.piece_bytes, snap.remote_run_session_id or "")
        pieces, checkpointed = plan.pieces, plan.checkpointed
        submit_body, submit_size = plan.submit_body, plan.submit_size
        meter.add(planned=sum(p.size for p in checkpointed) + submit_size)

        remote_id = snap.remote_run_session_id
        if remote_id is None:
            remote_id = self._start_pinned(run_id, mat)
            meter.add(run_id=run_id, state_name=state.STARTED_REMOTE)

        acked = snap.pieces_acked if snap.pieces_total == len(pieces) else 0
        acked = min(acked, len(checkpointed))
        meter.add(sent=sum(p.size for p in checkpointed[:acked]))
        if len(checkpointed) > 1 and snap.pieces_total != len(pieces):
            state.record_pieces(self.ctx, run_id, len(pieces), acked)
        for piece in checkpointed[acked:]:
            answer = self._call(
                lambda p=piece: self.client.checkpoint(
                    self._piece_body(remote_id, p, len(pieces), mat)
                )
            )
            if answer.get("stored") is False and answer.get("reason") == "run_already_terminal":
                # Our submit already reached the server (its answer was lost): submit again,
                # byte-identical, which the server takes as a retry.
                break
            if piece.index + 1 < len(checkpointed):
                # The last checkpoint is not recorded: the submit follows at once, and if we
                # stop in between, resending that piece is harmless.
                state.record_pieces(self.ctx, run_id, len(pieces), piece.index + 1)
            meter.add(sent=piece.size, run_id=run_id, state_name=state.SENDING)

        submit_body["run_session_id"] = remote_id
        answer = self._call(lambda: self.client.submit(submit_body))
        if answer.get("stored") is False:
            raise RemoteError(
                f"The server did not store the result: {answer.get('reason') or 'no reason'}.",
                retryable=False,
            )
        state.record_acknowledged(
            self.ctx,
            run_id,
            pieces=len(pieces),
            actor=self.actor,
            server_url=self.server_url,
            details={"trials": len(mat.trials), "pieces": len(pieces), "status": mat.status},
        )
        meter.add(sent=submit_size)

    def _start_pinned(self, run_id: str, mat: material.RunMaterial) -> str:
        """Start the run remotely on exactly its config version; record it; its remote id."""
        remote = self._remote_config(mat.config)
        meant = f"{remote.study_slug} {remote.config_version_label}"
        token = None
        if remote.config_version_id is not None:
            try:
                link = self._call(
                    lambda: self.client.participant_link(
                        remote.study_slug, mat.participant_id, [str(remote.config_version_id)]
                    )
                )
            except RemoteError as exc:
                if exc.status not in (404, 405):
                    raise RemoteError(
                        f"Could not pin the run to config {meant} on the server. {exc.reason}",
                        status=exc.status,
                        retryable=exc.retryable,
                    ) from exc
                link = None  # no participant links on this server: the check below decides
            if link is not None:
                order = [str(v) for v in link.get("task_order") or []]
                token = link.get("launch_token")
                if order != [str(remote.config_version_id)] or not token:
                    raise RemoteError(
                        f"The server would not pin the run to config {meant} (version "
                        f"{remote.config_version_id}); it offered the order {order or 'none'}.",
                        retryable=False,
                    )
        answer = self._call(
            lambda: self.client.start_run(remote.study_slug, mat.participant_id, launch_token=token)
        )
        remote_id = str(answer["run_session_id"])
        got_id, got_label = _started_version(answer)
        wrong_id = remote.config_version_id is not None and got_id != remote.config_version_id
        if wrong_id or (got_label is not None and got_label != remote.config_version_label):
            # Nothing is sent to that run: its trials would be read as another version's.
            raise RemoteError(
                f"The server started the run on config {got_label or '?'} (version "
                f"{got_id or '?'}) instead of {meant} (version "
                f"{remote.config_version_id or '?'}), so nothing was sent to it; remote run "
                f"{remote_id} stays empty there.",
                retryable=False,
            )
        state.record_started(
            self.ctx,
            run_id,
            self.server_url,
            remote_id,
            remote.study_slug,
            remote.config_version_label,
            got_id,
        )
        return remote_id

    @staticmethod
    def _piece_body(
        remote_id: str, piece: Piece, total: int, mat: material.RunMaterial
    ) -> dict[str, Any]:
        return {
            "run_session_id": remote_id,
            "checkpoint_label": f"cogflow-desktop sync piece {piece.index + 1} of {total}",
            "checkpoint_index": piece.index,
            "trial_count": piece.last_index + 1,
            "result_payload": {"sync_piece": piece.index + 1, "sync_pieces": total},
            "trials": piece.trials,
        }

    @staticmethod
    def _submit_body(remote_id: str, mat: material.RunMaterial) -> dict[str, Any]:
        return {
            "run_session_id": remote_id,
            "status": mat.status,
            "trial_count": mat.trial_count,
            "result_summary": mat.result_summary,
            "result_payload": mat.submit_payload(),
            "trials": [],
        }


@dataclass(frozen=True)
class RunRequests:
    """What one run sends: its trials cut into pieces, the pieces that go as checkpoints,
    and the submit (with the last piece inside when that piece is small)."""

    pieces: list[Piece]
    checkpointed: list[Piece]
    submit_body: dict[str, Any]
    submit_size: int  # bytes of the submit as encoded, trials included


def plan_requests(
    mat: material.RunMaterial, piece_bytes: int = DEFAULT_PIECE_BYTES, remote_id: str = ""
) -> RunRequests:
    """The requests of one run, decided from its material alone (a resumed sync cuts the
    same pieces). Raises TrialTooLarge when the submit alone could not fit in a request."""
    pieces = cut(mat.trials, piece_bytes)
    submit_body = SyncEngine._submit_body(remote_id, mat)
    submit_size = len(encode(submit_body))  # without trials: cheap
    if submit_size + ENVELOPE_ALLOWANCE > MAX_REQUEST_BYTES:
        raise TrialTooLarge(
            f"The run's result payload is {submit_size} bytes, more than one request to "
            "the server may carry (2.5 MiB)."
        )
    # A small last piece rides in the submit itself: one request (one commit on the server)
    # less per run, and a resent submit is still byte-identical.
    tail = pieces[-1] if pieces else None
    if tail is None or tail.size > REMAINDER_BYTES or tail.size + submit_size > piece_bytes:
        tail = None
    checkpointed = pieces[:-1] if tail is not None else pieces
    if tail is not None:
        submit_body["trials"] = tail.trials
        submit_size += tail.size
    return RunRequests(pieces, checkpointed, submit_body, submit_size)


def _published_from(answer: dict[str, Any], ref: material.ConfigRef) -> RemoteConfig:
    """The server may store the version under another slug or label: use what it says."""
    version_id = answer.get("config_version_id")
    owners: list[str] | None = None
    if isinstance(answer.get("owner_usernames"), list):
        owners = [str(n) for n in answer["owner_usernames"] if n]
    elif "owner_username" in answer:
        owners = [str(answer["owner_username"])] if answer["owner_username"] else []
    return RemoteConfig(
        study_slug=str(answer.get("study_slug") or ref.study_slug),
        config_version_label=str(answer.get("config_version_label") or ref.label),
        config_version_id=None if version_id is None else str(version_id),
        owner_usernames=owners,
        study_slug_adjusted=bool(answer.get("study_slug_adjusted")),
        config_version_label_adjusted=bool(answer.get("config_version_label_adjusted")),
    )


def _started_version(answer: dict[str, Any]) -> tuple[str | None, str | None]:
    """The config version id and label a runs/start answer names. The reference server puts
    the label only in `configs[]` (the entry with that id); others at the top level."""
    raw_id = answer.get("config_version_id")
    version_id = None if raw_id is None else str(raw_id)
    label = answer.get("config_version_label")
    if label is None:
        for entry in answer.get("configs") or []:
            if isinstance(entry, dict) and str(entry.get("config_version_id")) == version_id:
                label = entry.get("config_version_label")
                break
    return version_id, None if label is None else str(label)
