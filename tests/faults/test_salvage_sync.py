"""`sync --salvage` on a damaged database, against the central-like test server: it works
from a private copy (the damaged file is not written to), sends every run that is whole and
only those (a run missing trials would be taken as complete there), names the rest in one
sentence and a report, and records what it sent outside the database, so that neither a
second salvage nor a sync after restoring the backup sends a run twice (the central server
makes a new run on every start: it would store it twice)."""

from __future__ import annotations

import io
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from central_server import CentralServer
from damage_helpers import folder_digests
from sqlalchemy import update
from sync_helpers import (
    LAB_PASSWORD,
    arrived_central,
    assert_same,
    lab_context,
    local_results,
    make_trials,
    publish_local,
    seed_interrupted,
    seed_run,
)

from cogflow_desktop.cli import main as cli_main
from cogflow_desktop.settings import Settings
from cogflow_desktop.store import backups
from cogflow_desktop.store.models import RunSession
from cogflow_desktop.store.restore import restore_backup
from cogflow_desktop.sync import material, sent_ledger, state
from cogflow_desktop.sync.client import CentralClient, Credentials
from cogflow_desktop.sync.sent_ledger import LEDGER_NAME

ALICE, ALICE_PW = "alice", "alice central password"
TRIALS = 8


def _sync(url: str, lab_dir: Path, *extra: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{LAB_PASSWORD}\n{ALICE_PW}\n"))
    return cli_main(
        ["sync", "--server", url, "--user", "lab", "--password-stdin", "--remote-user", ALICE,
         "--data-dir", str(lab_dir), "--workers", "2", "--timeout", "10", *extra]
    )  # fmt: skip


def _damage_trial(db: Path, run_id: str, index: int) -> None:
    """A bad sector over the page that holds one trial of the run."""
    with sqlite3.connect(f"{db.as_uri()}?mode=ro&immutable=1", uri=True) as conn:
        blob = bytes(
            conn.execute(
                "SELECT ciphertext FROM trial_records WHERE run_id = ? AND trial_index = ?",
                (run_id, index),
            ).fetchone()[0]
        )
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    at = db.read_bytes().index(blob)
    with db.open("r+b") as f:
        f.seek(at - at % page)
        f.write(b"\xa5" * page)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COGFLOW_DATA_DIR", "COGFLOW_PASSWORD", "COGFLOW_REMOTE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def test_salvage_sync_sends_whole_runs_once_even_after_a_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lab_dir = tmp_path / "lab"
    settings = Settings.from_env(lab_dir)
    ctx = lab_context(lab_dir)
    try:
        publish_local(ctx, "s")
        whole = seed_run(ctx, "s", "P-whole", make_trials(TRIALS, pad=600))
        short = seed_run(ctx, "s", "P-short", make_trials(TRIALS, pad=600))
    finally:
        ctx.close()
    backup = backups.make_backup(settings.db_path, settings.backup_dir)
    ctx = lab_context(lab_dir)
    try:
        later = seed_run(ctx, "s", "P-later", make_trials(TRIALS, pad=600))  # not in the backup
        expected = local_results(ctx)
    finally:
        ctx.close()
    db = settings.db_path
    _damage_trial(db, short, 3)
    assert backups.quick_check(db) is not None

    with CentralServer({ALICE: ALICE_PW}) as central:
        # Without --salvage: refused, and the refusal says what to do.
        capsys.readouterr()
        assert _sync(central.url, lab_dir, monkeypatch=monkeypatch) == 1
        err = capsys.readouterr().err
        assert "is damaged" in err and "--salvage" in err
        assert not central.runs

        before = folder_digests(lab_dir)
        assert _sync(central.url, lab_dir, "--salvage", monkeypatch=monkeypatch) == 3
        err = capsys.readouterr().err
        sentence = err.strip().splitlines()[-1]
        assert sentence.startswith(
            f"Sent 2 of 3 unsynced runs from the damaged database to {central.url}"
        )
        assert short in sentence and whole not in sentence and later not in sentence
        assert "after restoring a backup" in sentence and LEDGER_NAME in sentence
        # The damaged file and its folder are as they were, but for the ledger and the report.
        after = folder_digests(lab_dir)
        new = sorted(set(after) - set(before))
        assert len(new) == 2 and LEDGER_NAME in new
        assert {k: after[k] for k in before} == before
        report = lab_dir / next(n for n in new if n.startswith("sync-salvage-report-"))
        text = report.read_text(encoding="utf-8")
        assert short in text and "could not be read" in text

        got = arrived_central(central)
        assert set(got.by_local_id) == {whole, later}  # the short run is not sent short
        for run_id in (whole, later):
            (remote,) = got.by_local_id[run_id]
            assert_same(expected[run_id], remote)

        # A second salvage sends nothing again.
        assert _sync(central.url, lab_dir, "--salvage", monkeypatch=monkeypatch) == 3
        capsys.readouterr()
        assert len(central.runs) == 2

        # Restore the backup (it has `whole` and `short` whole, not `later`), sync as usual:
        # `short` goes now, `whole` is not sent a second time.
        restore_backup(db, backup)
        assert _sync(central.url, lab_dir, monkeypatch=monkeypatch) == 0
        capsys.readouterr()
        got = arrived_central(central)
        assert {k: len(v) for k, v in got.by_local_id.items()} == {whole: 1, short: 1, later: 1}
        assert len(central.runs) == 3
        (remote,) = got.by_local_id[short]
        assert_same(expected[short], remote)

        # On a sound database, --salvage is refused.
        assert _sync(central.url, lab_dir, "--salvage", monkeypatch=monkeypatch) == 1
        err = capsys.readouterr().err
        assert "passed its integrity check" in err and "sync without --salvage" in err


def test_a_run_the_ledger_says_was_only_started_is_finished_on_that_remote_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A salvage sync stopped after the server started a run: the next sync (after a
    restore, say) sends the trials to that remote run instead of starting another; an unreadable
    ledger stops sync before anything is sent."""
    lab_dir = tmp_path / "lab"
    ctx = lab_context(lab_dir)
    try:
        publish_local(ctx, "s")
        run_id = seed_run(ctx, "s", "P-1", make_trials(TRIALS))
        expected = local_results(ctx)[run_id]
        with ctx.read() as s:
            run = s.get(RunSession, run_id)
            assert run is not None
            ref = material.config_ref(run)
    finally:
        ctx.close()
    with CentralServer({ALICE: ALICE_PW}) as central:
        client = CentralClient(central.url, credentials=Credentials(ALICE, ALICE_PW))
        try:
            client.connect()
            published = client.publish(ref.publish_body())
            started = client.start_run("s", "P-1")
        finally:
            client.close()
        remote_id = str(started["run_session_id"])
        ledger = lab_dir / LEDGER_NAME
        snap = state.Snapshot(
            run_id, state.STARTED_REMOTE, central.url, "s", "v1", remote_id,
            str(published["config_version_id"]), 0, 0, 0, True, None,
        )  # fmt: skip
        sent_ledger.write_entry(ledger, snap, central.url)

        # A ledger that cannot be read stops sync before anything is sent.
        good = ledger.read_bytes()
        ledger.write_text("{not json", encoding="utf-8")
        capsys.readouterr()
        assert _sync(central.url, lab_dir, monkeypatch=monkeypatch) == 1
        err = capsys.readouterr().err
        assert str(ledger) in err and "rather than risk sending a run twice" in err
        assert not central.runs[remote_id].trials

        ledger.write_bytes(good)
        assert _sync(central.url, lab_dir, monkeypatch=monkeypatch) == 0
        assert list(central.runs) == [remote_id]  # no second start
        got = arrived_central(central)
        (remote,) = got.by_local_id[run_id]
        assert remote["run_session_id"] == remote_id
        assert_same(expected, remote)


def test_a_run_the_stopped_app_left_open_is_sent_as_interrupted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The damaged database was never reopened, so a run the app was recording when it stopped
    is still marked as running: salvage sync flags it interrupted in the copy, as opening the
    folder normally does, and sends it as failed with every trial."""
    lab_dir = tmp_path / "lab"
    ctx = lab_context(lab_dir)
    try:
        publish_local(ctx, "s")
        done = seed_run(ctx, "s", "P-done", make_trials(TRIALS, pad=600))
        open_run = seed_interrupted(ctx, "s", "P-open", make_trials(TRIALS))
        expected = local_results(ctx)[open_run]
        # The page's last checkpoint was long ago (sync waits for a quiet run).
        with ctx.write() as s:
            s.execute(
                update(RunSession)
                .where(RunSession.id == open_run)
                .values(last_activity_at=datetime.now(UTC) - timedelta(hours=2))
            )
    finally:
        ctx.close()
    db = Settings.from_env(lab_dir).db_path
    _damage_trial(db, done, 3)
    with CentralServer({ALICE: ALICE_PW}) as central:
        assert _sync(central.url, lab_dir, "--salvage", monkeypatch=monkeypatch) == 3
        capsys.readouterr()
        got = arrived_central(central)
        assert set(got.by_local_id) == {open_run}
        (remote,) = got.by_local_id[open_run]
        assert_same({**expected, "interrupted": True}, remote)
