"""The run list, the studies list and the start-up's search for open runs are answered from
indexes (migration 0005), so they do not read every run of a large folder: checked with
SQLite's own query plans of the statements the services send, never with timings (the numbers
are in bench/bench_scale.py and the README)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from cogflow_desktop.gui import queries
from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import Context, _mark_interrupted_runs, open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.engine import make_engine
from cogflow_desktop.store.migrate import upgrade_database
from cogflow_desktop.store.models import Base, SyncState, utcnow

CONFIG = {"experiment_type": "trial-based", "task_type": "flanker", "timeline": []}


@pytest.fixture()
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = open_context(Settings.from_env(tmp_path / "data"), flag_interrupted_runs=False)
    users.create_user(context, "alice", "alice's passphrase")
    for slug in ("big", "small"):
        studies.publish(
            context, studies.PublishRequest(slug, slug, "v1", CONFIG), actor="alice", client=None
        )
    yield context
    context.close()


def _finished_run(ctx: Context, slug: str, participant: str) -> str:
    run_id = runs.start_run(ctx, slug, participant, actor="t", client=None)["run_session_id"]
    trial = {"trial_index": 0, "rt_ms": 400.0}
    runs.submit(
        ctx,
        runs.SubmitRequest(run_id, "completed", 1, {}, {}, [trial]),
        actor="t",
        client=None,
    )
    return run_id


def _plans(ctx: Context, call: Callable[[], Any]) -> tuple[Any, dict[str, str]]:
    """What `call` returns, and the query plan SQLite chooses for each statement it sent."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(ctx.engine, "before_cursor_execute", capture)
    try:
        answer = call()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", capture)
    plans: dict[str, str] = {}
    with sqlite3.connect(ctx.settings.db_path) as db:
        for statement, parameters in sent:
            rows = db.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            plans[statement] = " | ".join(row[-1] for row in rows)
    return answer, plans


def _plan_of(plans: dict[str, str], *words: str) -> str:
    found = [plan for sql, plan in plans.items() if all(w in sql for w in words)]
    assert len(found) == 1, (words, list(plans))
    return found[0]


def test_run_list_page_is_read_in_start_order_from_an_index(ctx: Context) -> None:
    ids = [_finished_run(ctx, "big", f"P{n}") for n in range(3)]
    _finished_run(ctx, "small", "Q")
    answer, plans = _plans(ctx, lambda: studies.study_runs(ctx, "big", limit=2))
    assert answer["total_run_count"] == 3
    assert [r["run_session_id"] for r in answer["runs"]] == ids[::-1][:2]  # newest first
    page = _plan_of(plans, "FROM run_sessions JOIN config_versions", "LIMIT")
    assert "USING INDEX ix_run_sessions_study_started (study_id=?)" in page
    # Only runs started in the same microsecond would need sorting among themselves.
    assert "USE TEMP B-TREE FOR ORDER BY" not in page
    count = _plan_of(plans, "count(*)", "FROM run_sessions")
    assert "USING COVERING INDEX" in count  # the rows themselves are not read


def test_studies_list_counts_runs_from_an_index(ctx: Context) -> None:
    _finished_run(ctx, "big", "P1")
    _finished_run(ctx, "big", "P2")
    runs.start_run(ctx, "small", "Q", actor="t", client=None)  # not finished: no result
    listed, plans = _plans(ctx, lambda: studies.list_studies(ctx))
    by_slug = {s["study_slug"]: s for s in listed}
    assert (by_slug["big"]["run_count"], by_slug["small"]["run_count"]) == (2, 1)
    assert by_slug["big"]["last_result_at"] is not None
    assert by_slug["small"]["last_result_at"] is None
    plan = _plan_of(plans, "FROM studies LEFT OUTER JOIN")
    assert "SCAN run_sessions USING COVERING INDEX ix_run_sessions_study_status" in plan


def test_runs_left_open_are_found_at_start_by_status(ctx: Context) -> None:
    _finished_run(ctx, "big", "P1")
    open_run = runs.start_run(ctx, "big", "P2", actor="t", client=None)["run_session_id"]
    _, plans = _plans(ctx, lambda: _mark_interrupted_runs(ctx))
    plan = _plan_of(plans, "FROM run_sessions", "status")
    assert "USING INDEX ix_run_sessions_status (status=?)" in plan
    listed = studies.study_runs(ctx, "big")["runs"]
    assert [r["run_session_id"] for r in listed if r["interrupted"]] == [open_run]


def _indexes(db: Path, table: str) -> dict[str, list[str]]:
    with sqlite3.connect(db) as conn:
        names = [row[1] for row in conn.execute(f"PRAGMA index_list({table})")]
        return {
            name: [row[2] for row in conn.execute(f"PRAGMA index_info({name})")]
            for name in names
            if not name.startswith("sqlite_autoindex")
        }


def test_migrations_build_the_run_indexes_the_models_declare(tmp_path: Path) -> None:
    migrated, declared = tmp_path / "migrated.sqlite3", tmp_path / "declared.sqlite3"
    engine = make_engine(migrated)
    try:
        upgrade_database(engine, migrated, tmp_path / "backups")
    finally:
        engine.dispose()
    engine = make_engine(declared)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()
    found = _indexes(migrated, "run_sessions")
    assert found == _indexes(declared, "run_sessions")
    assert found["ix_run_sessions_study_started"] == ["study_id", "started_at"]
    assert "ix_run_sessions_study_id" not in found  # the composite indexes start with it


def _sync_state(ctx: Context, run_id: str, state: str) -> datetime:
    when = utcnow()
    with ctx.write() as s:
        s.add(SyncState(run_id=run_id, state=state, updated_at=when))
    return when


def test_studies_page_counts_runs_by_status_day_and_sync_state(ctx: Context) -> None:
    done = [_finished_run(ctx, "big", f"P{n}") for n in range(3)]
    failed = runs.start_run(ctx, "big", "F", actor="t", client=None)["run_session_id"]
    runs.submit(ctx, runs.SubmitRequest(failed, "failed", 0, {}, {}, []), actor="t", client=None)
    runs.start_run(ctx, "big", "I", actor="t", client=None)
    _mark_interrupted_runs(ctx)  # the run above was left open by an earlier process
    runs.start_run(ctx, "big", "O", actor="t", client=None)  # open now
    acknowledged = _sync_state(ctx, done[0], "acknowledged")
    _sync_state(ctx, done[1], "failed")
    rows, plans = _plans(ctx, lambda: queries.study_rows(ctx))
    by_slug = {r["study_slug"]: r for r in rows}
    big, small = by_slug["big"], by_slug["small"]
    assert (big["run_count"], big["completed"], big["failed"], big["interrupted"]) == (6, 3, 1, 1)
    assert big["completion_rate"] == 3 / 5
    assert big["per_day"][-1] == 6 and sum(big["per_day"]) == 6 and len(big["per_day"]) == 14
    assert big["runs_last_7_days"] == 6
    assert big["problems"] == "1 interrupted, 1 failed, 1 sync failed"
    assert big["sync_summary"] == "1 failed, 4 not synced, 1 acknowledged"
    assert big["last_sync_at"] == acknowledged.isoformat()
    assert big["version_count"] == 1
    assert (small["run_count"], small["sync_summary"], small["per_day"]) == (0, "no runs", [])
    # No statement reads every run's row: runs are counted from indexes, and only the runs
    # sync has seen are looked up one by one.
    for sql, plan in plans.items():
        for step in plan.split(" | "):
            if "run_sessions" in step:
                assert "COVERING INDEX" in step or step.startswith("SEARCH"), (sql, plan)


def test_sync_page_reads_the_newest_runs_from_an_index(ctx: Context) -> None:
    ids = [_finished_run(ctx, slug, f"P{n}") for n, slug in enumerate(("big", "small", "big"))]
    rows, plans = _plans(ctx, lambda: queries.sync_rows(ctx))
    assert [r["run_session_id"] for r in rows] == ids[::-1]
    plan = _plan_of(plans, "FROM run_sessions JOIN studies")
    assert "SCAN run_sessions USING INDEX ix_run_sessions_started_at" in plan
    assert "TEMP B-TREE" not in plan  # read newest first, stopping at the limit
