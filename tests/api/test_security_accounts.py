"""Review findings 4 and 11 (keys): the researcher lifecycle (list, add with password and a
fresh TOTP code, change password, lock, unlock, remove, rotate the install key), live sessions
that stop at once, OWASP's scrypt parameters with accounts upgraded at their next sign-in, and
a database of the version before all this migrating with nothing lost."""

from __future__ import annotations

import json
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests
from api_helpers import TIMEOUT, new_slug, sample_config, start_run, submit, submit_body
from conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    LiveServer,
    Researcher,
    enrolled_researcher,
    publish,
    start_live_server,
    stop_live_server,
)
from sqlalchemy import select

from cogflow_desktop.security import envelopes, keyring, passwords
from cogflow_desktop.services import auth, researchers, results, users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.services.errors import AuthRequired, Conflict, Forbidden
from cogflow_desktop.services.vault import SessionSecrets
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.migrate import current_revision, head_revision
from cogflow_desktop.store.models import AuditEvent, InstallKeys, RunKey, RunSession, User

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "security"
PRODUCTION_KDF = passwords.KdfParams(passwords.SCRYPT_N, passwords.SCRYPT_R, passwords.SCRYPT_P)


def test_scrypt_parameters_meet_owasp() -> None:
    """OWASP Password Storage Cheat Sheet: scrypt N >= 2**17, r >= 8, p >= 1."""
    assert passwords.SCRYPT_N >= 2**17 and passwords.SCRYPT_R >= 8 and passwords.SCRYPT_P >= 1


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_live_server(tmp_path / "data")
    yield server
    stop_live_server(server)


def _secrets(live: LiveServer, researcher: Researcher) -> SessionSecrets:
    found = auth.session_for(live.ctx, researcher.cookies["sessionid"])
    assert found is not None
    return found


def _me(researcher: Researcher) -> int:
    return researcher.get(f"{researcher.url}/api/v1/auth/me", timeout=TIMEOUT).status_code


def _login(url: str, user: str, password: str) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/auth/login", json={"username": user, "password": password}, timeout=TIMEOUT
    )


def _recorded_run(live: LiveServer, participant: str = "P-1") -> str:
    slug = new_slug("acct")
    publish(live.url, slug, sample_config())
    run = start_run(live.url, slug, participant)["run_session_id"]
    trials = [{"trial_index": i, "response": f"r{i}"} for i in range(3)]
    assert submit(live.url, submit_body(run, trials)).status_code == 201
    return run


# --- lifecycle ----------------------------------------------------------------------------


def test_lock_and_remove_end_live_sessions_at_once(live: LiveServer) -> None:
    admin = enrolled_researcher(live)
    target = enrolled_researcher(live)
    run = _recorded_run(live)
    assert target.decrypt(run)["run_session_id"] == run
    researchers.lock(live.ctx, _secrets(live, admin), target.username, client="test")
    # The target's live session stops with its very next request.
    assert _me(target) == 401
    resp = target.post(f"{live.url}/api/v1/results/decrypt", json={"run_session_id": run})
    assert resp.status_code == 401
    # A locked account cannot sign in (told so only after the right password).
    password = f"pw-{target.username}-long-enough"
    locked = _login(live.url, target.username, password)
    assert locked.status_code == 401 and "locked" in locked.json()["error"]
    researchers.unlock(live.ctx, _secrets(live, admin), target.username, client="test")
    assert _login(live.url, target.username, password).status_code == 200
    researchers.remove(live.ctx, _secrets(live, admin), target.username, client="test")
    assert _login(live.url, target.username, password).status_code == 401
    assert target.username not in [r.username for r in researchers.list_researchers(live.ctx)]
    with live.ctx.read() as s:
        actions = [
            (e.action, e.actor, e.target)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action.like("user.%")))
        ]
    for action in ("user.lock", "user.unlock", "user.remove"):
        assert (action, admin.username, target.username) in actions


def test_lifecycle_changes_need_a_fresh_totp_code(live: LiveServer) -> None:
    name, password = live.new_researcher_account()
    stale = auth.login(live.ctx, name, password, "test").secrets  # signed in, no code yet
    other, _ = live.new_researcher_account()
    for change in (
        lambda: researchers.lock(live.ctx, stale, other, client="test"),
        lambda: researchers.remove(live.ctx, stale, other, client="test"),
        lambda: researchers.add(live.ctx, stale, "newcomer", "a long passphrase", client="t"),
        lambda: researchers.rotate_install_key(live.ctx, stale, client="test"),
    ):
        with pytest.raises(Forbidden):
            change()
    assert "newcomer" not in [r.username for r in researchers.list_researchers(live.ctx)]


def test_adding_a_researcher_with_password_and_fresh_code(live: LiveServer) -> None:
    admin = enrolled_researcher(live)
    created = researchers.add(
        live.ctx, _secrets(live, admin), "newcomer", "newcomer passphrase", client="test"
    )
    assert created.recovery_key is None
    run = _recorded_run(live)
    key = users.unlock_with_password(live.ctx, "newcomer", "newcomer passphrase")
    with live.ctx.read() as s:
        assert results.decrypt_run(s, key, run, True)["trials"][0]["response"] == "r0"


def test_last_researcher_cannot_be_locked_or_removed(tmp_path: Path) -> None:
    live = start_live_server(tmp_path / "alone")
    try:
        admin = enrolled_researcher(live)
        with live.ctx.write() as s:  # leave the enrolled account as the only one
            s.delete(s.scalar(select(User).where(User.username == ADMIN_USER)))
        with pytest.raises(Conflict):
            researchers.remove(live.ctx, _secrets(live, admin), admin.username, client="t")
    finally:
        stop_live_server(live)


def test_password_change_keeps_keys_and_code_and_ends_other_sessions(live: LiveServer) -> None:
    researcher = enrolled_researcher(live)
    name, old = researcher.username, f"pw-{researcher.username}-long-enough"
    other = requests.Session()
    assert other.post(
        f"{live.url}/api/v1/auth/login", json={"username": name, "password": old}, timeout=30
    ).ok
    run = _recorded_run(live)
    acting = _secrets(live, researcher)
    researchers.change_password(live.ctx, acting, old, "a brand new passphrase", client="test")
    assert _me(researcher) == 200  # the session that changed it goes on
    assert other.get(f"{live.url}/api/v1/auth/me", timeout=30).status_code == 401
    assert _login(live.url, name, old).status_code == 401
    fresh = requests.Session()
    resp = fresh.post(
        f"{live.url}/api/v1/auth/login",
        json={"username": name, "password": "a brand new passphrase"},
        timeout=TIMEOUT,
    )
    assert resp.status_code == 200
    fresh.headers["X-CSRFToken"] = fresh.cookies["csrftoken"]
    code = pyotp.TOTP(researcher.totp_secret).at(time.time() + 30)
    verify = fresh.post(f"{live.url}/api/v1/auth/mfa/verify", json={"code": code}, timeout=30)
    assert verify.status_code == 200, verify.text  # the authenticator still works
    got = fresh.post(f"{live.url}/api/v1/results/decrypt", json={"run_session_id": run})
    assert got.status_code == 200


def test_rotate_key_reseals_everything_and_destroys_the_old_copies(live: LiveServer) -> None:
    admin = enrolled_researcher(live)
    bystander = enrolled_researcher(live)
    done = _recorded_run(live, "P-done")
    # A run being recorded across the rotation, by this process (its content key in memory).
    slug = new_slug("rotating")
    publish(live.url, slug, sample_config())
    ongoing = start_run(live.url, slug, "P-ongoing")["run_session_id"]
    from api_helpers import checkpoint

    assert checkpoint(live.url, ongoing, [{"trial_index": 0, "response": "before"}]).ok
    old_key = _secrets(live, admin).private_key
    with live.ctx.read() as s:
        old_recovery = live.recovery_key
        old_public = s.scalar(select(InstallKeys.public_key))
    rotation = researchers.rotate_install_key(live.ctx, _secrets(live, admin), client="test")
    # Every session ended, the acting one too.
    assert _me(admin) == 401 and _me(bystander) == 401
    with live.ctx.read() as s:
        new_public = s.scalar(select(InstallKeys.public_key))
        assert new_public != old_public
        # No run key, participant id, account copy or recovery wrap opens with the old key.
        for row in s.scalars(select(RunKey)):
            with pytest.raises(envelopes.DecryptionError):
                envelopes.unseal(old_key, row.sealed_key, f"cogflow:run-key:{row.run_id}".encode())
        for run in s.scalars(select(RunSession)):
            with pytest.raises(envelopes.DecryptionError):
                envelopes.unseal(
                    old_key, run.participant_id_sealed, f"cogflow:participant:{run.id}".encode()
                )
        for user in s.scalars(select(User)):
            assert user.wrapped_private_key == b""
            with pytest.raises(envelopes.DecryptionError):
                envelopes.unseal(
                    old_key, user.sealed_install_key, users.install_copy_aad(user.username)
                )
    with pytest.raises(AuthRequired):
        users.unlock_with_recovery_key(live.ctx, old_recovery)
    new_key = users.unlock_with_recovery_key(live.ctx, rotation.recovery_key)
    assert keyring.public_bytes(new_key) == new_public
    # Recording goes on; a run started now is sealed to the new key.
    assert checkpoint(live.url, ongoing, [{"trial_index": 1, "response": "after"}]).ok
    later = _recorded_run(live, "P-later")
    # Every researcher (not only the one who rotated) opens everything with the new key.
    for name in (admin.username, bystander.username, ADMIN_USER):
        password = ADMIN_PASSWORD if name == ADMIN_USER else f"pw-{name}-long-enough"
        key = users.unlock_with_password(live.ctx, name, password)
        assert keyring.public_bytes(key) == new_public
        with live.ctx.read() as s:
            for run in (done, ongoing, later):
                answer = results.decrypt_run(s, key, run, True)
                assert answer["trials"], run
            trials = results.decrypt_run(s, key, ongoing, True)["trials"]
            assert [t["response"] for t in trials] == ["before", "after"]
            row = s.get(RunSession, done)
            assert row is not None and results.unseal_participant_id(key, row) == "P-done"


# --- a database of the previous version --------------------------------------------------


@pytest.fixture()
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """A copy of a database written by the version before this work (tests/fixtures/security,
    made at commit 317810b), upgraded with the production scrypt parameters."""
    monkeypatch.setattr(passwords, "CURRENT", PRODUCTION_KDF)
    data = tmp_path / "legacy"
    data.mkdir()
    shutil.copy(FIXTURES / "v0-database.sqlite3", data / "cogflow.sqlite3")
    return data, json.loads((FIXTURES / "v0-database.json").read_text())


def test_previous_version_database_migrates_and_accounts_upgrade_at_sign_in(
    legacy: tuple[Path, dict],
) -> None:
    data, facts = legacy
    ctx = open_context(Settings.from_env(data))
    try:
        assert current_revision(ctx.engine) == head_revision()
        backup = ctx.migration_backup
        assert backup is not None and backup.is_file()
        if sys.platform != "win32":
            assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        with ctx.read() as s:
            alice = s.scalar(select(User).where(User.username == "alice"))
            assert alice is not None and alice.sealed_install_key is None
            assert (alice.kdf_n, alice.kdf_r, alice.kdf_p) == (2**15, 8, 1)
        # Alice signs in with her old password: converted, with OWASP's parameters.
        login = auth.login(ctx, "alice", facts["users"]["alice"], "test")
        with ctx.read() as s:
            alice = s.scalar(select(User).where(User.username == "alice"))
            assert alice is not None
            assert (alice.kdf_n, alice.kdf_r, alice.kdf_p) == (2**17, 8, 1)
            assert alice.sealed_install_key is not None and alice.wrapped_private_key == b""
            upgrade = s.scalar(select(AuditEvent).where(AuditEvent.action == "user.upgrade_keys"))
            assert upgrade is not None and upgrade.details["from"]["format"] == 1
        # Her authenticator still works, and every legacy run decrypts as recorded.
        code = pyotp.TOTP(facts["totp_secrets"]["alice"]).at(time.time() + 30)
        auth.verify_code(ctx, login.secrets, code, "test")
        with ctx.read() as s:
            for run_id, expected in facts["runs"].items():
                answer = results.decrypt_run(s, login.secrets.private_key, run_id, True)
                assert answer["status"] == expected["status"]
                assert answer["trials"] == expected["trials"]
                # Recorded before run binding: readable, and said to be unverified.
                assert answer["integrity"] == results.UNVERIFIED
                row = s.get(RunSession, run_id)
                assert row is not None
                got = results.unseal_participant_id(login.secrets.private_key, row)
                assert got == expected["participant"]
        auth.logout(ctx, login.token, "test")
        # The old password keeps working after the upgrade; bob upgrades at his own sign-in.
        auth.logout(ctx, auth.login(ctx, "alice", facts["users"]["alice"], "test").token, "t")
        bob = auth.login(ctx, "bob", facts["users"]["bob"], "test")
        assert keyring.public_bytes(bob.secrets.private_key) == keyring.public_bytes(
            login.secrets.private_key
        )
        # The recovery key shown by the old version still opens the installation.
        users.unlock_with_recovery_key(ctx, facts["recovery_key"])
    finally:
        ctx.close()


def test_rotation_waits_for_unconverted_accounts(legacy: tuple[Path, dict]) -> None:
    data, facts = legacy
    ctx = open_context(Settings.from_env(data))
    try:
        login = auth.login(ctx, "alice", facts["users"]["alice"], "test")
        code = pyotp.TOTP(facts["totp_secrets"]["alice"]).at(time.time() + 30)
        auth.verify_code(ctx, login.secrets, code, "test")
        with pytest.raises(Conflict, match="bob must sign in once"):
            researchers.rotate_install_key(ctx, login.secrets, client="test")
    finally:
        ctx.close()
