"""The command line: help and version everywhere, accounts, plain one-sentence errors.

Most commands run in-process through `cli.main` (fast); a few run as real processes where the
exit status and streams of the process itself are the point.
"""

from __future__ import annotations

import argparse
import io
import re
import time
from pathlib import Path

import pyotp
import pytest

from cogflow_desktop import __version__
from cogflow_desktop.cli import build_parser, main
from cogflow_desktop.services import auth, users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings

RECOVERY_KEY = re.compile(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}")


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                paths.extend(_command_paths(child, (*prefix, name)))
    return paths


COMMANDS = _command_paths(build_parser())


def _one_sentence(stderr: str) -> str:
    """The error output is one line, one sentence, no traceback."""
    text = stderr.strip()
    assert "\n" not in text, stderr
    assert "Traceback" not in text
    assert text.startswith("cogflow-desktop: ")
    assert text.endswith("."), text
    return text.removeprefix("cogflow-desktop: ")


def _run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _enrol_totp(data_dir: Path | str, username: str, password: str) -> str:
    """Enrol the account's authenticator (adding a researcher needs a code of the one who
    adds); returns a code for the next time step (this step's was used to enrol)."""
    ctx = open_context(Settings.from_env(data_dir))
    try:
        login = auth.login(ctx, username, password, "test")
        secret = auth.mfa_setup(ctx, login.secrets, False, "test").secret
        auth.verify_code(ctx, login.secrets, pyotp.TOTP(secret).now(), "test")
        auth.logout(ctx, login.token, "test")
    finally:
        ctx.close()
    return pyotp.TOTP(secret).at(time.time() + 30)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COGFLOW_DATA_DIR", "COGFLOW_PASSWORD", "COGFLOW_UNLOCK_PASSWORD",
                 "COGFLOW_TOTP_CODE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "(top)")
@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_on_every_command(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], flag: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, flag])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    if flag == "--help":
        assert out.startswith("usage: cogflow-desktop")
    else:
        assert out.strip() == f"cogflow-desktop {__version__}"


def test_first_user_prints_recovery_key_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path)
    code, out, err = _run(
        capsys, monkeypatch, "users", "create", "alice", "--password-stdin", "--data-dir", data,
        stdin="alice's long passphrase\n",
    )  # fmt: skip
    assert code == 0, err
    keys = RECOVERY_KEY.findall(out)
    assert len(keys) == 1
    # The printed key really opens this installation.
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        install = ctx.install_keys()
        unlocked = users.unlock_with_recovery_key(ctx, keys[0].lower().replace("-", " "))
        assert unlocked.public_key().public_bytes_raw() == install.public_key
    finally:
        ctx.close()

    # A second account needs an existing researcher, and prints no recovery key.
    code, out, err = _run(
        capsys, monkeypatch, "users", "create", "bob", "--password-stdin", "--data-dir", data,
        stdin="bob's long passphrase\n",
    )  # fmt: skip
    assert code == 1
    assert "existing researcher" in _one_sentence(err)
    code_now = _enrol_totp(data, "alice", "alice's long passphrase")
    code, out, err = _run(
        capsys, monkeypatch, "users", "create", "bob", "--password-stdin", "--unlock-user",
        "alice", "--totp-code", code_now, "--data-dir", data,
        stdin="bob's long passphrase\nalice's long passphrase\n",
    )  # fmt: skip
    assert code == 0, err
    assert "bob" in out and not RECOVERY_KEY.search(out)

    code, out, _ = _run(capsys, monkeypatch, "users", "list", "--data-dir", data)
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == ["alice", "bob"]


def test_passwords_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path)
    monkeypatch.setenv("COGFLOW_PASSWORD", "first env passphrase")
    code, out, err = _run(capsys, monkeypatch, "users", "create", "carol", "--data-dir", data)
    assert code == 0, err
    assert RECOVERY_KEY.search(out)
    monkeypatch.setenv("COGFLOW_TOTP_CODE", _enrol_totp(data, "carol", "first env passphrase"))
    monkeypatch.setenv("COGFLOW_PASSWORD", "second env passphrase")
    monkeypatch.setenv("COGFLOW_UNLOCK_PASSWORD", "first env passphrase")
    code, out, err = _run(
        capsys, monkeypatch, "users", "create", "dave", "--unlock-user", "carol", "--data-dir", data
    )
    assert code == 0, err
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        users.unlock_with_password(ctx, "dave", "second env passphrase")
    finally:
        ctx.close()


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        (["users", "create", "erin", "--password-stdin"], "short\n", "at least 10 characters"),
        (["users", "create", "bad name!", "--password-stdin"], "long enough pw\n", "username"),
        (["users", "create", "erin", "--password-stdin"], "", "standard input"),
        (["users", "create", "erin"], "", "--password-stdin"),
    ],
)
def test_account_errors_are_one_sentence(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: str,
    expected: str,
) -> None:
    code, _, err = _run(capsys, monkeypatch, *argv, "--data-dir", str(tmp_path), stdin=stdin)
    assert code == 1
    assert expected in _one_sentence(err)


def test_wrong_unlock_password_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path)
    _run(capsys, monkeypatch, "users", "create", "alice", "--password-stdin", "--data-dir", data,
         stdin="alice's long passphrase\n")  # fmt: skip
    code, _, err = _run(
        capsys, monkeypatch, "users", "create", "bob", "--password-stdin", "--unlock-user",
        "alice", "--data-dir", data, stdin="bob's long passphrase\nnot alice's password\n",
    )  # fmt: skip
    assert code == 1
    assert _one_sentence(err) == "The username or password is not correct."


def test_data_dir_that_is_a_file_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("hello")
    code, _, err = _run(capsys, monkeypatch, "users", "list", "--data-dir", str(not_a_folder))
    assert code == 1
    assert "data folder" in _one_sentence(err)


def test_damaged_database_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cogflow.sqlite3").write_bytes(b"this is not a database" * 100)
    code, _, err = _run(capsys, monkeypatch, "audit", "verify", "--data-dir", str(tmp_path))
    assert code == 1
    assert "is damaged" in _one_sentence(err)  # and names the backup to restore, if any


def test_unknown_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err.lower()
