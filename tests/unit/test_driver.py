"""The hot path's plain driver statements (store/driver.py) write what SQLAlchemy would."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, exc, select

from cogflow_desktop import audit
from cogflow_desktop.services import runs, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.services.studies import PublishRequest, publish
from cogflow_desktop.settings import Settings
from cogflow_desktop.store import driver
from cogflow_desktop.store.models import AuditEvent, ResultEnvelope, RunSession, Study


@pytest.fixture()
def ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    context = open_context(Settings.from_env(tmp_path))
    yield context
    context.close()


def _raw(ctx: Context, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(ctx.settings.db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_values_are_stored_as_the_column_types_store_them(ctx: Context) -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=timezone(timedelta(hours=2)))
    details = {"ü": [1, 2.5, None], "k": "v"}
    with ctx.write() as s:
        s.add(Study(slug="s", name="S", created_at=when, last_activity_at=when))
        audit.record(s, "orm", actor="a", details=details)
    with ctx.write() as s:
        # The same values through the driver.
        cursor = driver.Cursor(s)
        cursor.execute("UPDATE studies SET created_at = ?", (driver.sql_datetime(when),))
        cursor.close()
    stored = _raw(ctx, "SELECT created_at, last_activity_at FROM studies")
    assert stored[0][0] == stored[0][1] == "2026-03-04 03:06:07.000089"
    with ctx.read() as s:
        study = s.scalars(select(Study)).one()
        assert study.created_at == when and study.created_at.tzinfo is not None
    assert driver.sql_json(details) == _raw(ctx, "SELECT details FROM audit_events")[0][0]
    with pytest.raises(ValueError):
        driver.sql_datetime(datetime(2026, 1, 1))  # naive: refused like the column type


def test_driver_errors_are_sqlalchemy_errors(ctx: Context) -> None:
    with pytest.raises(exc.OperationalError), ctx.write() as s:
        driver.Cursor(s).execute("UPDATE no_such_table SET x = 1")
    with ctx.write() as s:
        audit.record(s, "one", actor="a")
    with pytest.raises(exc.IntegrityError), ctx.write() as s:
        driver.Cursor(s).execute(
            "INSERT INTO audit_events (id, created_at, actor, action, outcome, details,"
            " prev_hash, hash) VALUES (1, '2026-01-01 00:00:00.000000', 'a', 'x', 'ok', '{}',"
            " '', '')"
        )


def _checkpoints(ctx: Context, run_id: str, n: int) -> None:
    for i in range(n):
        runs.checkpoint(
            ctx,
            runs.CheckpointRequest(run_id, f"t{i}", i, i + 1, {"i": i}, [{"trial_index": i}]),
            actor="anonymous",
            client="127.0.0.1",
        )


@pytest.mark.parametrize("observed", [False, True], ids=["driver", "through-sqlalchemy"])
def test_checkpoints_read_back_alike_by_either_path(ctx: Context, observed: bool) -> None:
    """With a statement listener on the engine, the same statements go through SQLAlchemy
    (and the listener sees each); either way the ORM reads the same rows back."""
    seen: list[str] = []
    if observed:
        event.listen(
            ctx.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql)
        )
    users.create_user(ctx, "alice", "a passphrase for alice")
    publish(
        ctx,
        PublishRequest("s", "S", "v1", {"task_type": "rdm", "timeline": []}),
        actor="alice",
        client=None,
    )
    run_id = runs.start_run(ctx, "s", "p1", actor="anonymous", client=None)["run_session_id"]
    before = datetime.now(UTC)
    _checkpoints(ctx, run_id, 3)
    assert any(sql.startswith("INSERT INTO trial_records") for sql in seen) == observed
    with ctx.read() as s:
        run = s.get(RunSession, run_id)
        assert run is not None and run.trial_count == 3 and run.manifest is not None
        assert run.last_activity_at >= before - timedelta(seconds=1)
        envelope = s.scalars(select(ResultEnvelope).where(ResultEnvelope.run_id == run_id)).one()
        assert (envelope.kind, envelope.checkpoint_index, envelope.trial_count) == (
            "checkpoint",
            2,
            3,
        )
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        assert last.action == "run.checkpoint" and last.details == {
            "checkpoint_index": 2,
            "trials": 1,
        }
        assert audit.verify_chain(s).ok
