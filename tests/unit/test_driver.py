"""The hot path's plain driver statements (store/driver.py) write what SQLAlchemy would."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, exc, select

from cogflow_desktop import audit
from cogflow_desktop.services import results, runs, users
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.services.errors import BadRequest, Conflict, NotFound
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


@pytest.mark.parametrize("observed", [False, True], ids=["driver", "through-sqlalchemy"])
def test_start_and_submit_read_back_and_decrypt_alike_by_either_path(
    ctx: Context, observed: bool
) -> None:
    """start_run and submit write through the driver's cursor: the ORM reads the same rows
    back, the researcher decrypts a verified (manifest-bound) run with its participant, and a
    retry or a different result for the finished run are told apart as before."""
    seen: list[str] = []
    if observed:
        event.listen(
            ctx.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql)
        )
    users.create_user(ctx, "alice", "a passphrase for alice")
    config = {"task_type": "rdm", "timeline": [{"ü": 1.5}]}
    publish(ctx, PublishRequest("s", "S", "v1", config), actor="alice", client=None)
    publish(ctx, PublishRequest("s", "S", "v2", config), actor="alice", client=None)
    before = datetime.now(UTC) - timedelta(seconds=1)
    started = runs.start_run(ctx, "s", "p1", actor="anonymous", client="127.0.0.1")
    run_id = started["run_session_id"]
    assert (started["config_version_label"], started["config"]) == ("v2", config)
    assert any(sql.startswith("INSERT INTO run_sessions") for sql in seen) == observed
    trials = [{"trial_index": i, "rt_ms": 400.5 + i} for i in range(3)]
    req = runs.SubmitRequest(run_id, "completed", 3, {"acc": 1.0}, {"p": "q"}, trials)
    answer = runs.submit(ctx, req, actor="anonymous", client="127.0.0.1")
    assert answer["stored"] and answer["status"] == "completed"
    assert runs.submit(ctx, req, actor="anonymous", client="127.0.0.1") == answer  # a retry
    changed = runs.SubmitRequest(run_id, "completed", 3, {"acc": 0.5}, {"p": "q"}, trials)
    with pytest.raises(Conflict):
        runs.submit(ctx, changed, actor="anonymous", client="127.0.0.1")
    key = users.unlock_with_password(ctx, "alice", "a passphrase for alice")
    with ctx.read() as s:
        run = s.get(RunSession, run_id)
        assert run is not None and (run.status, run.trial_count, run.bound) == ("completed", 3, 1)
        assert run.started_at >= before and run.completed_at is not None
        assert run.submit_digest == req.digest(run.submit_salt)
        study = s.scalars(select(Study)).one()
        assert study.last_activity_at == run.completed_at
        final = s.scalars(
            select(ResultEnvelope).where(
                ResultEnvelope.run_id == run_id, ResultEnvelope.kind == "final"
            )
        ).one()
        assert answer["result_envelope_id"] == final.id and final.status == "completed"
        decrypted = results.decrypt_run(s, key, run_id, True)
        assert results.unseal_participant_id(key, run) == "p1"
        assert audit.verify_chain(s).ok
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert decrypted["integrity"] == results.VERIFIED
    assert decrypted["config_version_label"] == "v2"
    assert decrypted["trials"] == trials
    assert actions[-5:] == ["run.start", "run.submit", "run.submit", "run.submit", "auth.unlock"]


def test_start_names_a_missing_study_or_config(ctx: Context) -> None:
    users.create_user(ctx, "alice", "a passphrase for alice")
    with pytest.raises(NotFound, match="Study not found"):
        runs.start_run(ctx, "nope", None, actor="anonymous", client=None)
    with ctx.write() as s:
        s.add(Study(slug="empty", name="Empty"))
    with pytest.raises(BadRequest, match="no published config"):
        runs.start_run(ctx, "empty", None, actor="anonymous", client=None)
    with ctx.read() as s:
        assert s.scalars(select(RunSession)).all() == []
