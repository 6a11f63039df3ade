"""Review finding 8 (CLI): the command line's unlock paths (`users create --unlock-user`,
`sync --user`, `sync unattended on --user`) are throttled and audited like API logins, across
separate invocations (each one a fresh process with a fresh in-memory throttle)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from cogflow_desktop.cli import main
from cogflow_desktop.services import users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.models import AuditEvent

pytestmark = pytest.mark.usefixtures("central_login")

ALICE_PW = "alice's long passphrase"


@pytest.fixture()
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("COGFLOW_DATA_DIR", "COGFLOW_PASSWORD", "COGFLOW_UNLOCK_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        users.create_user(ctx, "alice", ALICE_PW)
    finally:
        ctx.close()
    return str(tmp_path)


def _run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


def _logins(data: str) -> list[tuple[str, str, str | None]]:
    ctx = open_context(Settings.from_env(data))
    try:
        with ctx.read() as s:
            return [
                (e.actor, e.outcome, e.client)
                for e in s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action.in_(("auth.login", "auth.unlock")))
                    .order_by(AuditEvent.id)
                )
            ]
    finally:
        ctx.close()


def test_users_create_unlock_is_throttled_and_audited_across_runs(
    data: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(10):
        code = _run(
            monkeypatch, "users", "create", f"bob{i}", "--password-stdin", "--unlock-user",
            "alice", "--data-dir", data, stdin=f"bob's long passphrase\nguess number {i}\n",
        )  # fmt: skip
        assert code == 1
    assert _logins(data) == [("alice", "denied", "cli")] * 10
    capsys.readouterr()
    # The right password, in a new invocation: refused without being checked.
    code = _run(
        monkeypatch, "users", "create", "bob", "--password-stdin", "--unlock-user", "alice",
        "--data-dir", data, stdin=f"bob's long passphrase\n{ALICE_PW}\n",
    )  # fmt: skip
    assert code == 1
    assert "throttled" in capsys.readouterr().err
    assert len(_logins(data)) == 10  # refused before the password was even checked


def test_sync_user_unlock_is_audited(
    data: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(
        monkeypatch, "sync", "--server", "https://central.example", "--user", "alice",
        "--password-stdin", "--data-dir", data, stdin="not alice's password\n",
    )  # fmt: skip
    assert code == 1
    assert _logins(data) == [("alice", "denied", "cli")]
    code = _run(
        monkeypatch, "sync", "unattended", "on", "--user", "alice", "--password-stdin",
        "--data-dir", data, stdin="still not alice's password\n",
    )  # fmt: skip
    assert code == 1
    # Refused before the password when there is no keyring; audited when it was checked.
    assert _logins(data)[0] == ("alice", "denied", "cli")
