"""`cogflow-desktop audit verify`: passes on an intact chain, names the row that was tampered."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import run_cli

from cogflow_desktop import audit
from cogflow_desktop.cli import main
from cogflow_desktop.services import runs, studies, users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.models import AuditEvent


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    """A data folder with a few audited actions (account, publish, run start, submit)."""
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        users.create_user(ctx, "alice", "alice's long passphrase")
        studies.publish(
            ctx,
            studies.PublishRequest("s1", "S1", "v1", {"task_type": "rdm"}),
            actor="alice",
            client="127.0.0.1",
        )
        started = runs.start_run(ctx, "s1", "p1", actor="anonymous", client="127.0.0.1")
        runs.submit(
            ctx,
            runs.SubmitRequest(started["run_session_id"], "completed", 1, {}, {}, []),
            actor="anonymous",
            client="127.0.0.1",
        )
        with ctx.write() as s:
            audit.record(s, "test.note", actor="alice", details={"n": 1})
    finally:
        ctx.close()
    return tmp_path


def _verify(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["audit", "verify", "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def _sql(data_dir: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(data_dir / "cogflow.sqlite3") as raw:
        raw.execute(statement, params)


def test_intact_chain_verifies(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _verify(data_dir, capsys)
    assert code == 0, err
    assert out.splitlines()[0] == "Audit chain intact: 5 rows verified."


def test_edited_details_name_the_row(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(data_dir, "UPDATE audit_events SET details = ? WHERE id = 3", json.dumps({"x": 1}))
    code, _, err = _verify(data_dir, capsys)
    assert code == 1
    assert err.strip() == (
        "cogflow-desktop: The audit chain is broken at row 3: "
        "row 3 was changed after it was written."
    )


def test_edited_actor_name_the_row(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(data_dir, "UPDATE audit_events SET actor = 'mallory' WHERE id = 2")
    code, _, err = _verify(data_dir, capsys)
    assert code == 1 and "row 2" in err


def test_deleted_middle_row_is_named(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(data_dir, "DELETE FROM audit_events WHERE id = 3")
    code, _, err = _verify(data_dir, capsys)
    assert code == 1
    assert "broken at row 3: row 3 is missing" in err


def test_rewritten_row_with_fresh_hash_breaks_the_next(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Editing a row and recomputing its own hash still breaks the link from the next row."""
    ctx = open_context(Settings.from_env(data_dir))
    try:
        with ctx.write() as s:
            event = s.get(AuditEvent, 2)
            event.details = {"forged": True}
            event.hash = audit._row_hash(event.prev_hash, event)
    finally:
        ctx.close()
    code, _, err = _verify(data_dir, capsys)
    assert code == 1
    assert "broken at row 3: row 3 does not follow row 2" in err


def test_verify_as_a_process(data_dir: Path) -> None:
    ok = run_cli("audit", "verify", "--data-dir", str(data_dir))
    assert ok.returncode == 0 and "intact" in ok.stdout
    _sql(data_dir, "DELETE FROM audit_events WHERE id = 4")
    broken = run_cli("audit", "verify", "--data-dir", str(data_dir))
    assert broken.returncode != 0
    assert "row 4" in broken.stderr
