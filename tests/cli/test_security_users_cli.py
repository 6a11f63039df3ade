"""Review finding 4 (command line): `users list|passwd|lock|unlock|remove|rotate-key`, and
`users create --unlock-user` needing the unlocking researcher's TOTP code as well."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from cogflow_desktop.cli import main
from cogflow_desktop.services import auth, users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.models import AuditEvent

pytestmark = pytest.mark.usefixtures("central_login")

ALICE_PW = "alice's long passphrase"
BOB_PW = "bob's long passphrase"
ENV = ("COGFLOW_DATA_DIR", "COGFLOW_PASSWORD", "COGFLOW_UNLOCK_PASSWORD", "COGFLOW_TOTP_CODE",
       "COGFLOW_NEW_PASSWORD")  # fmt: skip
RECOVERY = re.compile(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}")


class Clock:
    """Each TOTP step is accepted once: the test moves time on 30 s per code it uses."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def code(self, secret: str) -> str:
        self.now += timedelta(seconds=30)
        return pyotp.TOTP(secret).at(self.now)


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(auth, "utcnow", fake)
    return fake


@pytest.fixture()
def data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> Iterator[tuple[str, str]]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        users.create_user(ctx, "alice", ALICE_PW)
        login = auth.login(ctx, "alice", ALICE_PW, "test")
        secret = auth.mfa_setup(ctx, login.secrets, False, "test").secret
        auth.verify_code(ctx, login.secrets, clock.code(secret), "test")
        auth.logout(ctx, login.token, "test")
    finally:
        ctx.close()
    yield str(tmp_path), secret


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
         stdin: str = "") -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _actions(data: str) -> list[tuple[str, str, str, str | None]]:
    ctx = open_context(Settings.from_env(data))
    try:
        with ctx.read() as s:
            return [
                (e.action, e.outcome, e.actor, e.target)
                for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
            ]
    finally:
        ctx.close()


def test_adding_a_researcher_needs_password_and_totp_code(
    data: tuple[str, str], clock: Clock, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    folder, secret = data
    argv = ("users", "create", "bob", "--password-stdin", "--unlock-user", "alice",
            "--data-dir", folder)  # fmt: skip
    code, _, err = _run(monkeypatch, capsys, *argv, stdin=f"{BOB_PW}\n{ALICE_PW}\n")
    assert code == 1 and "TOTP code" in err
    code, _, err = _run(monkeypatch, capsys, *argv, "--totp-code", "000000",
                        stdin=f"{BOB_PW}\n{ALICE_PW}\n")  # fmt: skip
    assert code == 1 and "Invalid TOTP code" in err
    assert ("mfa.verify", "denied", "alice", None) in _actions(folder)
    assert not any(a[0] == "user.create" and a[3] == "bob" for a in _actions(folder))
    code, out, err = _run(monkeypatch, capsys, *argv, "--totp-code", clock.code(secret),
                          stdin=f"{BOB_PW}\n{ALICE_PW}\n")  # fmt: skip
    assert code == 0, err
    assert "Created researcher 'bob'" in out
    assert ("user.create", "ok", "alice", "bob") in _actions(folder)


def test_list_lock_unlock_passwd_remove_and_rotate(
    data: tuple[str, str], clock: Clock, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    folder, secret = data
    d = ("--data-dir", folder)
    assert _run(monkeypatch, capsys, "users", "create", "bob", "--password-stdin",
                "--unlock-user", "alice", "--totp-code", clock.code(secret), *d,
                stdin=f"{BOB_PW}\n{ALICE_PW}\n")[0] == 0  # fmt: skip

    def as_alice(*argv: str) -> tuple[int, str, str]:
        return _run(monkeypatch, capsys, "users", *argv, "--as", "alice", "--password-stdin",
                    "--totp-code", clock.code(secret), *d, stdin=f"{ALICE_PW}\n")  # fmt: skip

    code, out, _ = _run(monkeypatch, capsys, "users", "list", *d)
    assert code == 0 and re.search(r"^bob\tactive\t", out, re.M)
    assert as_alice("lock", "bob")[:2] == (0, "bob is locked.\n")
    code, out, _ = _run(monkeypatch, capsys, "users", "list", *d)
    assert re.search(r"^bob\tlocked by alice\t", out, re.M)
    code, _, err = _run(monkeypatch, capsys, "sync", "--server", "https://x.example", "--user",
                        "bob", "--password-stdin", *d, stdin=f"{BOB_PW}\n")  # fmt: skip
    assert code == 1 and "locked" in err
    assert as_alice("unlock", "bob")[0] == 0
    code, out, err = _run(monkeypatch, capsys, "users", "passwd", "alice", "--password-stdin",
                          "--totp-code", clock.code(secret), *d,
                          stdin=f"{ALICE_PW}\nalice's new passphrase\n")  # fmt: skip
    assert code == 0, err
    global ALICE_PW_NOW
    ctx = open_context(Settings.from_env(folder))
    try:
        users.unlock_with_password(ctx, "alice", "alice's new passphrase")
    finally:
        ctx.close()
    monkeypatch.setattr(__import__(__name__), "ALICE_PW", "alice's new passphrase")

    def as_alice_new(*argv: str) -> tuple[int, str, str]:
        return _run(monkeypatch, capsys, "users", *argv, "--as", "alice", "--password-stdin",
                    "--totp-code", clock.code(secret), *d,
                    stdin="alice's new passphrase\n")  # fmt: skip

    assert as_alice_new("remove", "bob")[:2] == (0, "bob is removed.\n")
    code, out, err = as_alice_new("rotate-key")
    assert code == 0, err
    recovery = RECOVERY.search(out)
    assert recovery and "every session has ended" in out
    ctx = open_context(Settings.from_env(folder))
    try:
        key = users.unlock_with_recovery_key(ctx, recovery.group(0))
        alice = users.unlock_with_password(ctx, "alice", "alice's new passphrase")
        assert alice.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
    finally:
        ctx.close()
    done = {a[0] for a in _actions(folder)}
    assert {"user.lock", "user.unlock", "user.passwd", "user.remove", "install.rotate_key"} <= done
