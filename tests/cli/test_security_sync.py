"""Review finding 7: credentials in a server URL are refused (never stored, logged or audited);
plain http to a host that is not this computer is refused unless --allow-insecure-http is given
(and then a warning is shown); unattended sync only ever sends to the server it was turned on
for, and that pin lives in the wrapped key itself, not in a file one could edit."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from memory_keyring import MemoryKeyring

from cogflow_desktop.cli import main
from cogflow_desktop.services import users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.sync.client import normalize_url

pytestmark = pytest.mark.usefixtures("central_login")

PW = "alice's long passphrase"
SECRET = "hunter2-in-the-url"


@pytest.fixture()
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("COGFLOW_DATA_DIR", "COGFLOW_PASSWORD", "COGFLOW_SYNC_SERVER"):
        monkeypatch.delenv(name, raising=False)
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        users.create_user(ctx, "alice", PW)
    finally:
        ctx.close()
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield str(tmp_path)
    keyring.set_keyring(previous)


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str,
         stdin: str = "") -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _folder_holds(folder: str, text: str) -> bool:
    needle = text.encode()
    return any(needle in p.read_bytes() for p in Path(folder).rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "url",
    [
        f"https://alice:{SECRET}@central.example",
        f"https://{SECRET}@central.example",
        f"http://alice:{SECRET}@127.0.0.1:9",
        f"ftp://alice:{SECRET}@central.example",
    ],
)
def test_credentials_in_the_url_are_refused_and_never_kept(
    data: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = _run(monkeypatch, capsys, "sync", "--server", url, "--user", "alice",
                          "--password-stdin", "--data-dir", data, stdin=f"{PW}\n")  # fmt: skip
    assert code == 1
    assert "user name or password" in err
    assert SECRET not in out + err
    assert not _folder_holds(data, SECRET)


@pytest.mark.parametrize(
    "url",
    ["http://central.example", "http://192.0.2.1:8000", "http://10.0.0.5", "http://[2001:db8::1]"],
)
def test_plain_http_to_another_host_needs_the_flag(
    data: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, _, err = _run(monkeypatch, capsys, "sync", "--server", url, "--user", "alice",
                        "--password-stdin", "--data-dir", data, stdin=f"{PW}\n")  # fmt: skip
    assert code == 1 and "--allow-insecure-http" in err


def test_plain_http_with_the_flag_warns(
    data: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, _, err = _run(monkeypatch, capsys, "sync", "--server", "http://192.0.2.1:9",
                        "--allow-insecure-http", "--timeout", "1", "--user", "alice",
                        "--password-stdin", "--data-dir", data, stdin=f"{PW}\n")  # fmt: skip
    assert "Warning" in err and "unencrypted" in err
    assert "--allow-insecure-http" not in err.split("Warning", 1)[0]  # it was not refused


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000", "http://127.1.2.3"],
)
def test_plain_http_to_this_computer_is_fine(url: str) -> None:
    assert normalize_url(url) == url


def test_unattended_sync_is_pinned_to_the_server_it_was_turned_on_for(
    data: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(monkeypatch, capsys, "sync", "unattended", "on", "--user", "alice",
                          "--server", "https://central-a.example", "--password-stdin",
                          "--data-dir", data, stdin=f"{PW}\n")  # fmt: skip
    assert code == 0, err
    assert "https://central-a.example" in out
    code, _, err = _run(monkeypatch, capsys, "sync", "--unattended", "--server",
                        "https://evil.example", "--data-dir", data)  # fmt: skip
    assert code == 1 and "pinned to https://central-a.example" in err
    # Editing the pin file does not move the pin: it is in the wrapped key's associated data.
    pin = Path(data) / "unattended-sync.json"
    pin.write_text(json.dumps({"server": "https://evil.example"}))
    code, _, err = _run(monkeypatch, capsys, "sync", "--unattended", "--server",
                        "https://evil.example", "--data-dir", data)  # fmt: skip
    assert code == 1 and "does not open" in err


def test_turning_unattended_sync_on_needs_a_server(
    data: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(monkeypatch, capsys, "sync", "unattended", "on", "--user", "alice",
                        "--password-stdin", "--data-dir", data, stdin=f"{PW}\n")  # fmt: skip
    assert code == 1 and "--server" in err
