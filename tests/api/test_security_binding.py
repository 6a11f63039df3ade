"""Review finding 6: the plaintext columns of a run are bound to its sealed data. Swapping
`participant_key` between runs, changing `status` or `trial_count`, deleting trial rows or the
final envelope, or slipping in rows under a key of one's own (anyone with the public key can
seal one) is reported at decrypt and export as an integrity error, and audited. Before the fix
every one of these decrypted without complaint."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from api_helpers import TIMEOUT, checkpoint, new_slug, sample_config, start_run, submit, submit_body
from conftest import (
    LiveServer,
    Researcher,
    enrolled_researcher,
    publish,
    start_live_server,
    stop_live_server,
)
from sqlalchemy import select

from cogflow_desktop.security import envelopes
from cogflow_desktop.services import users
from cogflow_desktop.services.errors import Corrupted
from cogflow_desktop.store.models import AuditEvent, InstallKeys


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_live_server(tmp_path_factory.mktemp("binding"))
    yield server
    stop_live_server(server)


@pytest.fixture(scope="module")
def researcher(live: LiveServer) -> Researcher:
    return enrolled_researcher(live)


def _run(live: LiveServer, *, submitted: bool = True, participant: str = "P-1") -> str:
    slug = new_slug("bind")
    publish(live.url, slug, sample_config())
    run = start_run(live.url, slug, participant)["run_session_id"]
    trials = [{"trial_index": i, "response": f"r{i}"} for i in range(4)]
    assert checkpoint(live.url, run, trials[:2]).ok
    if submitted:
        assert submit(live.url, submit_body(run, trials)).status_code == 201
    return run


def _sql(live: LiveServer, statement: str, *params: object) -> None:
    """Edit the database file directly, as someone holding a copy of it would (sqlite3's
    defaults: no foreign key checks)."""
    raw = sqlite3.connect(live.ctx.settings.db_path)
    with raw:
        raw.execute(statement, params)
    raw.close()


def _decrypt(researcher: Researcher, run: str) -> requests.Response:
    return researcher.post(
        f"{researcher.url}/api/v1/results/decrypt",
        json={"run_session_id": run, "include_trials": True},
        timeout=TIMEOUT,
    )


def _forge_rows(live: LiveServer, run: str, key_aad: str) -> None:
    """Replace a trial with one of the attacker's own: a content key sealed to the public key
    (anyone can), a trial encrypted under it with the right associated data."""
    with live.ctx.read() as s:
        public = s.scalar(select(InstallKeys.public_key))
    assert public is not None
    key = envelopes.new_key()
    sealed = envelopes.seal(public, key, key_aad.format(run=run).encode())
    forged = envelopes.encrypt(
        key, b'{"trial_index":1,"response":"forged"}', f"cogflow:trial:{run}:1".encode()
    )
    raw = sqlite3.connect(live.ctx.settings.db_path)
    with raw:
        cur = raw.execute(
            "INSERT INTO run_keys (run_id, sealed_key, created_at) VALUES (?, ?, '2026-01-01')",
            (run, sealed),
        )
        raw.execute(
            "UPDATE trial_records SET key_id = ?, ciphertext = ? "
            "WHERE run_id = ? AND trial_index = 1",
            (cur.lastrowid, forged, run),
        )
    raw.close()


TAMPERS: dict[str, Callable[[LiveServer, str, str], None]] = {
    "swap participant_key": lambda live, run, other: _swap_participant_keys(live, run, other),
    "status completed -> failed": lambda live, run, _o: _sql(
        live, "UPDATE run_sessions SET status = 'failed' WHERE id = ?", run
    ),
    "trial_count changed": lambda live, run, _o: _sql(
        live, "UPDATE run_sessions SET trial_count = 2 WHERE id = ?", run
    ),
    "trial row deleted": lambda live, run, _o: _sql(
        live, "DELETE FROM trial_records WHERE run_id = ? AND trial_index = 3", run
    ),
    "final envelope deleted": lambda live, run, _o: _sql(
        live, "DELETE FROM result_envelopes WHERE run_id = ? AND kind = 'final'", run
    ),
    "final deleted and shown as interrupted": lambda live, run, _o: (
        _sql(live, "DELETE FROM result_envelopes WHERE run_id = ? AND kind = 'final'", run),
        _sql(live, "UPDATE run_sessions SET status = 'started' WHERE id = ?", run),
    ),
    "row replaced under a forged key": lambda live, run, _o: _forge_rows(
        live, run, "cogflow:run-key:{run}"
    ),
    "row replaced under a forged current-format key": lambda live, run, _o: _forge_rows(
        live, run, "cogflow:run-key:v2:{run}"
    ),
    "binding columns cleared": lambda live, run, _o: _sql(
        live,
        "UPDATE run_sessions SET manifest = NULL, manifest_key_id = NULL, bound = 0 WHERE id = ?",
        run,
    ),
}


def _swap_participant_keys(live: LiveServer, run: str, other: str) -> None:
    raw = sqlite3.connect(live.ctx.settings.db_path)
    with raw:
        a = raw.execute("SELECT participant_key FROM run_sessions WHERE id = ?", (run,)).fetchone()
        b = raw.execute(
            "SELECT participant_key FROM run_sessions WHERE id = ?", (other,)
        ).fetchone()
        raw.execute("UPDATE run_sessions SET participant_key = ? WHERE id = ?", (b[0], run))
        raw.execute("UPDATE run_sessions SET participant_key = ? WHERE id = ?", (a[0], other))
    raw.close()


@pytest.mark.parametrize("how", list(TAMPERS))
def test_tampering_is_an_audited_integrity_error_at_decrypt(
    live: LiveServer, researcher: Researcher, how: str
) -> None:
    run, other = _run(live, participant="P-a"), _run(live, participant="P-b")
    assert _decrypt(researcher, run).status_code == 200
    TAMPERS[how](live, run, other)
    resp = _decrypt(researcher, run)
    assert resp.status_code == 409, resp.text
    assert "integrity" in resp.json()["error"]
    with live.ctx.read() as s:
        event = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "results.decrypt", AuditEvent.target == run)
            .order_by(AuditEvent.id.desc())
        )
    assert event is not None and event.outcome == "denied"


def test_untouched_runs_are_marked_verified(live: LiveServer, researcher: Researcher) -> None:
    for run in (_run(live), _run(live, submitted=False)):
        answer = _decrypt(researcher, run).json()
        assert answer["integrity"] == "verified", answer


def test_interrupted_runs_are_bound_too(live: LiveServer, researcher: Researcher) -> None:
    run = _run(live, submitted=False)
    assert _decrypt(researcher, run).status_code == 200
    _sql(live, "DELETE FROM trial_records WHERE run_id = ? AND trial_index = 0", run)
    assert _decrypt(researcher, run).status_code == 409


def test_export_stops_on_a_tampered_run_and_audits_it(
    live: LiveServer, tmp_path: Path
) -> None:
    from cogflow_desktop.export import ExportOptions, export_study

    slug = new_slug("bind-export")
    publish(live.url, slug, sample_config())
    runs = []
    for p in ("P-x", "P-y"):
        run = start_run(live.url, slug, p)["run_session_id"]
        assert submit(live.url, submit_body(run, [{"trial_index": 0}])).status_code == 201
        runs.append(run)
    key = users.unlock_with_password(live.ctx, "admin", "correct horse battery")
    out = tmp_path / "ok.csv"
    export_study(live.ctx, key, ExportOptions(slug, "csv", out), actor="admin")
    assert out.is_file()
    _sql(live, "UPDATE run_sessions SET trial_count = 9 WHERE id = ?", runs[1])
    bad = tmp_path / "bad.csv"
    with pytest.raises(Corrupted, match="integrity"):
        export_study(live.ctx, key, ExportOptions(slug, "csv", bad), actor="admin")
    assert not bad.exists()
    with live.ctx.read() as s:
        event = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "results.export", AuditEvent.target == slug)
            .order_by(AuditEvent.id.desc())
        )
    assert event is not None and event.outcome == "failed"
    assert "integrity" in event.details["reason"]


def test_participant_seal_swapped_between_runs_is_caught(
    live: LiveServer, researcher: Researcher
) -> None:
    """A participant id sealed for another run does not open here (its associated data names
    the run); one forged for this run must match the bound participant_key."""
    run = _run(live, participant="P-real")
    with live.ctx.read() as s:
        public = s.scalar(select(InstallKeys.public_key))
    assert public is not None
    forged = envelopes.seal(public, b"P-forged", f"cogflow:participant:{run}".encode())
    _sql(live, "UPDATE run_sessions SET participant_id_sealed = ? WHERE id = ?", forged, run)
    assert _decrypt(researcher, run).status_code == 409
