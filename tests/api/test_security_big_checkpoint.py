"""Review finding 11 (write lock): one huge checkpoint or submit cannot hold the database's
write lock for its whole length; it is written in bounded transactions, so other participants'
checkpoints go through in between. Checked by order of events, not by timing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.models import TrialRecord

BIG = 12_000


@pytest.fixture()
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = open_context(Settings.from_env(tmp_path))
    users.create_user(context, "alice", "alice's long passphrase")
    studies.publish(
        context, studies.PublishRequest("s", "s", "v1", {"timeline": []}, None, None),
        actor="t", client="t",
    )  # fmt: skip
    yield context
    context.close()


def _start(ctx: Context) -> str:
    return runs.start_run(ctx, "s", "P", actor="t", client="t")["run_session_id"]


def _stored(ctx: Context, run: str) -> int:
    with ctx.read() as s:
        return int(
            s.scalar(select(func.count(TrialRecord.id)).where(TrialRecord.run_id == run)) or 0
        )


def _trials(n: int) -> list[dict[str, object]]:
    return [{"trial_index": i, "rt_ms": 300.5, "stimulus": "x" * 40} for i in range(n)]


def _rows_per_transaction(ctx: Context) -> list[int]:
    """Trial rows written by each committed write transaction, recorded as they commit."""
    sizes: list[int] = []
    pending: dict[int, int] = {}

    @event.listens_for(ctx.engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO trial_records"):
            n = len(params) if executemany else 1
            pending[id(conn)] = pending.get(id(conn), 0) + n

    @event.listens_for(ctx.engine, "commit")
    def _commit(conn):  # type: ignore[no-untyped-def]
        if pending.get(id(conn)):
            sizes.append(pending.pop(id(conn)))

    return sizes


@pytest.mark.parametrize("kind", ["checkpoint", "submit"])
def test_a_huge_request_is_written_in_bounded_transactions(ctx: Context, kind: str) -> None:
    sizes = _rows_per_transaction(ctx)
    run = _start(ctx)
    trials = _trials(BIG)
    if kind == "checkpoint":
        runs.checkpoint(
            ctx, runs.CheckpointRequest(run, "t", 0, BIG, {}, trials), actor="t", client="t"
        )
    else:
        runs.submit(
            ctx,
            runs.SubmitRequest(run, "completed", BIG, {}, {"x": 1}, trials),
            actor="t",
            client="t",
        )
    assert sum(sizes) == BIG and _stored(ctx, run) == BIG
    assert len(sizes) > 1, f"all {BIG} trials in one transaction"
    assert max(sizes) <= runs.TRIALS_PER_TRANSACTION < BIG, sizes


def test_other_checkpoints_go_through_while_a_huge_one_is_written(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two pieces of a huge checkpoint, another participant's checkpoint is stored
    (run from the huge one's own thread at that moment, on a thread of its own): nothing holds
    the write lock across pieces."""
    big_run = _start(ctx)
    small_run = _start(ctx)
    while runs._run_lock(small_run) is runs._run_lock(big_run):  # independent runs
        small_run = _start(ctx)
    encrypt = runs._encrypt_trials
    calls: list[int] = []
    seen: dict[str, int] = {}

    def small_checkpoint() -> None:
        runs.checkpoint(
            ctx,
            runs.CheckpointRequest(small_run, "t", 0, 1, {}, [{"trial_index": 0}]),
            actor="t",
            client="t",
        )

    def between_pieces(run_id, key_id, key, trials):  # type: ignore[no-untyped-def]
        if run_id == big_run:
            calls.append(len(trials))
            if len(calls) == 2:  # one piece committed, the next not yet
                other = threading.Thread(target=small_checkpoint)
                other.start()
                other.join(timeout=120)
                seen["small"] = _stored(ctx, small_run)
                seen["big"] = _stored(ctx, big_run)
        return encrypt(run_id, key_id, key, trials)

    monkeypatch.setattr(runs, "_encrypt_trials", between_pieces)
    runs.checkpoint(
        ctx, runs.CheckpointRequest(big_run, "t", 0, BIG, {}, _trials(BIG)), actor="t", client="t"
    )
    assert len(calls) > 2, "the huge checkpoint was not written in pieces"
    assert seen["small"] == 1, "another checkpoint could not get in between two pieces"
    assert 0 < seen["big"] < BIG
    assert _stored(ctx, big_run) == BIG
