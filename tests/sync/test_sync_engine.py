"""The sync engine against real receiving servers (the central-like test server, and our own
server in another process), through a proxy that injects faults: every run arrives exactly
once, whole, on the config version it ran, resumably, with a visible state."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from central_server import CentralServer
from fault_proxy import FaultPlan, FaultProxy
from sqlalchemy import func, select
from sync_helpers import (
    LAB_PASSWORD,
    LAB_USER,
    REMOTE_ADMIN,
    REMOTE_CREDENTIALS,
    REMOTE_PASSWORD,
    Arrived,
    ServerProcess,
    arrived,
    arrived_central,
    assert_same,
    lab_context,
    local_results,
    make_trials,
    publish_local,
    seed_interrupted,
    seed_run,
)

from cogflow_desktop import audit
from cogflow_desktop.services import users
from cogflow_desktop.services.context import Context
from cogflow_desktop.store.models import AuditEvent
from cogflow_desktop.sync import state
from cogflow_desktop.sync.client import CentralClient, Credentials
from cogflow_desktop.sync.engine import SyncEngine, SyncOptions
from cogflow_desktop.sync.pieces import DEFAULT_PIECE_BYTES, REMAINDER_BYTES, cut
from cogflow_desktop.sync.progress import Progress
from cogflow_desktop.sync.retry import RetryPolicy
from cogflow_desktop.sync.vocabulary import central_rows

RETRY = RetryPolicy(max_attempts=12, base_seconds=0.05, cap_seconds=0.5)
ALL_FAULTS = {"drop": 0.02, "delay": 0.01, "error500": 0.02, "throttle": 0.02, "lose": 0.03}


def engine(
    ctx: Context,
    url: str,
    *,
    read_timeout: float = 3.0,
    credentials: Credentials | None = REMOTE_CREDENTIALS,
    progress: Callable[[Progress], None] | None = None,
    retry_failed: bool = False,
    piece_bytes: int = DEFAULT_PIECE_BYTES,
) -> SyncEngine:
    key = users.unlock_with_password(ctx, LAB_USER, LAB_PASSWORD)
    client = CentralClient(url, credentials=credentials, timeout=(5, read_timeout))
    opts = SyncOptions(
        workers=6,
        retry=RETRY,
        retry_failed=retry_failed,
        interrupted_quiet_seconds=0,
        piece_bytes=piece_bytes,
    )
    return SyncEngine(ctx, client, key, actor=LAB_USER, options=opts, progress=progress)


def seed_many(data_dir: Path, completed: int, interrupted: int) -> None:
    """Runs over two studies and two config versions, a few failed and a few interrupted."""
    ctx = lab_context(data_dir, fast_writes=True)
    publish_local(ctx, "stroop")
    publish_local(ctx, "flanker", "v1")
    for i in range(completed):
        if i == completed // 2:
            publish_local(ctx, "flanker", "v2", task_type="flanker")
        slug = "stroop" if i % 2 else "flanker"
        status = "failed" if i % 50 == 7 else "completed"
        seed_run(ctx, slug, f"P{i:04d}", make_trials(3 + i % 5), status=status)
    for i in range(interrupted):
        seed_interrupted(ctx, "stroop", f"I{i:03d}", make_trials(2 + i))
    ctx.close()


def assert_exactly_once(ctx: Context, got: Arrived, expected: int) -> None:
    local = local_results(ctx)
    assert sorted(got.by_local_id) == sorted(local)
    assert len(local) == expected
    for local_id, remote_runs in got.by_local_id.items():
        assert len(remote_runs) == 1, f"run {local_id} arrived {len(remote_runs)} times"
        assert_same(local[local_id], remote_runs[0])
    # Orphans (a start whose answer was lost) may exist, but never with a result.
    assert got.statuses["completed"] + got.statuses["failed"] == expected


def test_500_runs_under_faults_arrive_exactly_once(tmp_path: Path) -> None:
    seed_many(tmp_path / "lab", completed=495, interrupted=5)
    ctx = lab_context(tmp_path / "lab")  # this start-up flags the 5 open runs as interrupted
    plan = FaultPlan(
        rates=ALL_FAULTS, delay_seconds=3.5, paths=(*FaultPlan.paths, "/api/v1/studies/")
    )
    try:
        with CentralServer({REMOTE_ADMIN: REMOTE_PASSWORD}) as central:
            with FaultProxy(central.url, plan) as proxy:
                # Tiny pieces: most runs go as start, checkpoints, then submit with the rest.
                report = engine(ctx, proxy.url, piece_bytes=300).run()
                counts = proxy.plan.counts
            assert report.runs_total == 500
            assert report.acknowledged == 500, report.failed[:3]
            for fault in ALL_FAULTS:
                assert counts[fault] > 0, f"no {fault} fault was injected"
            assert counts["/api/v1/results/checkpoint"] > 500
            # Nothing left to do: a second sync sends nothing.
            assert engine(ctx, central.url).run().runs_total == 0
            got = arrived_central(central)
            assert_exactly_once(ctx, got, 500)
            # Each run is on the config version it ran here, though flanker has two there.
            for local_id, (remote,) in got.by_local_id.items():
                meant = remote["result_payload"]["cogflow_provenance"]["config_version_label"]
                slug = central.runs[remote["run_session_id"]].study_slug
                assert central.version(slug, remote["config_version_id"]).label == meant, local_id
        rows = state.status_rows(ctx)
        assert {r.state for r in rows} == {state.ACKNOWLEDGED}
        with ctx.read() as s:
            assert audit.verify_chain(s).ok
            per_run = s.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action == "sync.run", AuditEvent.outcome == "ok"
                )
            )
            assert per_run == 500  # one row per run and outcome, none per piece or retry
    finally:
        ctx.close()


def test_large_run_goes_in_pieces_and_resumes_after_cancel(tmp_path: Path) -> None:
    ctx = lab_context(tmp_path / "lab")
    try:
        publish_local(ctx, "big")
        run_id = seed_run(ctx, "big", "P-big", make_trials(20_000, pad=150))
        cancel = threading.Event()

        def stop_after_two_pieces(p: Progress) -> None:
            if p.state == state.SENDING and state.load(ctx, run_id).pieces_acked >= 2:
                cancel.set()

        with ServerProcess(tmp_path / "remote") as remote, FaultProxy(remote.url) as proxy:
            first = engine(ctx, proxy.url, read_timeout=60, progress=stop_after_two_pieces)
            first.cancel = cancel
            report = first.run()
            assert report.cancelled == 1 and report.acknowledged == 0
            snap = state.load(ctx, run_id)
            assert snap.state == state.SENDING
            assert snap.pieces_total >= 4 and snap.pieces_acked == 2
            sent_before = proxy.plan.counts["/api/v1/results/checkpoint"]
            assert sent_before == 2

            report = engine(ctx, proxy.url, read_timeout=60).run()
            assert report.acknowledged == 1
            # The resumed sync sent only the pieces not yet acknowledged.
            resent = proxy.plan.counts["/api/v1/results/checkpoint"] - sent_before
            pieces = cut(central_rows(make_trials(20_000, pad=150), "trial-based"))
            assert len(pieces) == snap.pieces_total
            # A small last piece goes with the submit rather than as a checkpoint.
            checkpoints = len(pieces) - (pieces[-1].size <= REMAINDER_BYTES)
            assert resent == checkpoints - 2
            assert proxy.plan.counts["/api/v1/runs/start"] == 1
            assert proxy.plan.counts["oversize"] == 0
            assert report.bytes_sent > 4 * 1024 * 1024
            remote.stop()
            assert_exactly_once(ctx, arrived(tmp_path / "remote"), 1)
    finally:
        ctx.close()


def test_refused_run_shows_the_servers_reason_and_does_not_block_others(
    tmp_path: Path,
) -> None:
    ctx = lab_context(tmp_path / "lab")
    try:
        publish_local(ctx, "refused")
        good = [seed_run(ctx, "refused", f"P{i}", make_trials(4)) for i in range(3)]
        # The local app takes any participant id; the server allows at most 255 characters.
        bad = seed_run(ctx, "refused", "x" * 300, make_trials(4))
        with ServerProcess(tmp_path / "remote") as remote:
            report = engine(ctx, remote.url).run()
            assert report.acknowledged == 3
            assert [f.run_session_id for f in report.failed] == [bad]
            snap = state.load(ctx, bad)
            assert snap.state == state.FAILED and not snap.retryable
            assert snap.reason is not None
            assert snap.reason.startswith("The server answered 400: participant_external_id")
            assert all(state.load(ctx, r).state == state.ACKNOWLEDGED for r in good)
            # A refused run is not retried by itself, only when asked.
            assert engine(ctx, remote.url).run().runs_total == 0
            again = engine(ctx, remote.url, retry_failed=True).run()
            assert again.runs_total == 1 and len(again.failed) == 1
            assert state.load(ctx, bad).attempts == 2
    finally:
        ctx.close()


def test_server_without_participant_links_gets_only_runs_it_starts_on_their_version(
    tmp_path: Path,
) -> None:
    """Our own server (session login, CSRF) has no participant links and starts every run on
    the study's latest version: runs of that version go, the older version's are refused with
    a sentence and send nothing."""
    ctx = lab_context(tmp_path / "lab")
    try:
        publish_local(ctx, "login", "v1")
        old = [seed_run(ctx, "login", f"P{i}", make_trials(6)) for i in range(2)]
        publish_local(ctx, "login", "v2")
        new = [seed_run(ctx, "login", f"Q{i}", make_trials(6)) for i in range(3)]
        with ServerProcess(tmp_path / "remote") as remote:
            report = engine(ctx, remote.url).run()
            assert report.acknowledged == 3
            assert sorted(f.run_session_id for f in report.failed) == sorted(old)
            for failure in report.failed:
                assert not failure.retryable
                assert (
                    failure.reason.startswith("The server started the run on config v2 (version ")
                    and "instead of login v1" in failure.reason
                ), failure.reason
            remote.stop()
            got = arrived(tmp_path / "remote")
        assert sorted(got.by_local_id) == sorted(new)
        assert got.statuses == {"completed": 3, "started": 2}  # two empty orphans, said so
        local = local_results(ctx)
        for run_id in new:
            assert_same(local[run_id], got.by_local_id[run_id][0])
    finally:
        ctx.close()
