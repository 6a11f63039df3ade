"""Review finding 10: tampered key material is an integrity error (a clear 409 with an audited
`denied` row), never a 500, whether the tag fails or the sealed key is malformed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import pytest
import requests
from api_helpers import TIMEOUT, new_slug, sample_config, start_run, submit, submit_body
from conftest import (
    LiveServer,
    Researcher,
    enrolled_researcher,
    publish,
    start_live_server,
    stop_live_server,
)
from sqlalchemy import select, update

from cogflow_desktop.store.models import (
    AuditEvent,
    ResultEnvelope,
    RunKey,
    RunSession,
    TrialRecord,
    User,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_live_server(tmp_path_factory.mktemp("tamper"))
    yield server
    stop_live_server(server)


@pytest.fixture(scope="module")
def researcher(live: LiveServer) -> Researcher:
    """One MFA-fresh session for the module (fresh for MFA_REAUTH_SECONDS)."""
    return enrolled_researcher(live)


def _recorded_run(live: LiveServer) -> str:
    slug = new_slug("tamper")
    publish(live.url, slug, sample_config())
    run = start_run(live.url, slug, "P-1")["run_session_id"]
    trials = [{"trial_index": i, "rt_ms": 300 + i} for i in range(3)]
    assert submit(live.url, submit_body(run, trials)).status_code == 201
    return run


def _last_audit(live: LiveServer, action: str) -> AuditEvent:
    with live.ctx.read() as s:
        event = s.scalar(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
        )
    assert event is not None
    return event


def _decrypt(researcher: Researcher, run: str) -> requests.Response:
    return researcher.post(
        f"{researcher.url}/api/v1/results/decrypt",
        json={"run_session_id": run, "include_trials": True},
        timeout=TIMEOUT,
    )


def _zero_ephemeral(blob: bytes) -> bytes:
    return blob[:1] + b"\0" * 32 + blob[33:]  # a low-order point: the exchange itself fails


TAMPERS: dict[str, Callable[[bytes], bytes]] = {
    "malformed sealed key (low-order point)": _zero_ephemeral,
    "truncated sealed key": lambda blob: blob[:20],
    "unknown format byte": lambda blob: b"\x07" + blob[1:],
    "flipped tag": lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),
}


@pytest.mark.parametrize("how", list(TAMPERS))
def test_tampered_run_key_is_a_409_integrity_error(
    live: LiveServer, researcher: Researcher, how: str
) -> None:
    run = _recorded_run(live)
    with live.ctx.write() as s:
        key = s.scalars(select(RunKey).where(RunKey.run_id == run)).first()
        assert key is not None
        key.sealed_key = TAMPERS[how](key.sealed_key)
    resp = _decrypt(researcher, run)
    assert resp.status_code == 409, resp.text
    assert "integrity" in resp.json()["error"]
    event = _last_audit(live, "results.decrypt")
    assert (event.outcome, event.target) == ("denied", run)


@pytest.mark.parametrize(
    "column", ["trial ciphertext", "final envelope", "key id of another run", "missing key"]
)
def test_tampered_rows_are_409(live: LiveServer, researcher: Researcher, column: str) -> None:
    run = _recorded_run(live)
    other = _recorded_run(live)
    if column == "missing key":
        # Someone editing the file directly, foreign keys off (sqlite3's default).
        raw = sqlite3.connect(live.ctx.settings.db_path)
        with raw:
            raw.execute("DELETE FROM run_keys WHERE run_id = ?", (run,))
        raw.close()
    with live.ctx.write() as s:
        if column == "trial ciphertext":
            s.execute(
                update(TrialRecord)
                .where(TrialRecord.run_id == run, TrialRecord.trial_index == 1)
                .values(ciphertext=b"\x01short")
            )
        elif column == "final envelope":
            env = s.scalar(select(ResultEnvelope).where(ResultEnvelope.run_id == run))
            assert env is not None
            env.ciphertext = _zero_ephemeral(env.ciphertext)
        elif column == "key id of another run":
            foreign = s.scalar(select(RunKey.id).where(RunKey.run_id == other))
            s.execute(update(TrialRecord).where(TrialRecord.run_id == run).values(key_id=foreign))
    resp = _decrypt(researcher, run)
    assert resp.status_code == 409, resp.text
    assert _last_audit(live, "results.decrypt").outcome == "denied"


def test_malformed_participant_seal_is_409_in_the_app(live: LiveServer) -> None:
    from cogflow_desktop.services import results
    from cogflow_desktop.services.errors import Corrupted

    run = _recorded_run(live)
    from cogflow_desktop.services import users

    key = users.unlock_with_password(live.ctx, "admin", "correct horse battery")
    with live.ctx.write() as s:
        row = s.get(RunSession, run)
        assert row is not None
        row.participant_id_sealed = _zero_ephemeral(row.participant_id_sealed)
    with live.ctx.read() as s, pytest.raises(Corrupted):
        row = s.get(RunSession, run)
        assert row is not None
        results.unseal_participant_id(key, row)


@pytest.mark.parametrize("how", ["truncated", "low-order", "flipped"])
@pytest.mark.parametrize("column", ["wrapped_user_key", "sealed_install_key"])
def test_tampered_account_keys_at_login_are_409_and_audited(
    live: LiveServer, how: str, column: str
) -> None:
    name, password = live.new_researcher_account()
    with live.ctx.write() as s:
        user = s.scalar(select(User).where(User.username == name))
        assert user is not None
        blob = getattr(user, column)
        setattr(
            user,
            column,
            {
                "truncated": blob[:9],
                "low-order": _zero_ephemeral(blob),
                "flipped": blob[:-1] + bytes([blob[-1] ^ 1]),
            }[how],
        )
    resp = requests.post(
        f"{live.url}/api/v1/auth/login",
        json={"username": name, "password": password},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 409, resp.text
    event = _last_audit(live, "auth.login")
    assert (event.actor, event.outcome) == (name, "denied")
    assert "integrity" in event.details["reason"]


def test_tampered_totp_secret_is_409_and_audited(live: LiveServer) -> None:
    researcher = enrolled_researcher(live)
    with live.ctx.write() as s:
        user = s.scalar(select(User).where(User.username == researcher.username))
        assert user is not None and user.totp_secret_enc is not None
        user.totp_secret_enc = user.totp_secret_enc[:5]
    resp = researcher.post(
        f"{live.url}/api/v1/auth/mfa/verify", json={"code": "123456"}, timeout=TIMEOUT
    )
    assert resp.status_code == 409, resp.text
    event = _last_audit(live, "mfa.verify")
    assert (event.actor, event.outcome) == (researcher.username, "denied")
