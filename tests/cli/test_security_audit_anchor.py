"""Review finding 5: deleting the newest audit rows, or rewriting the tail and chaining it
anew, passed `audit verify`. The chain is now anchored outside the database (a signed head
record beside it and in the OS keyring), and `audit verify` reports both against the anchor."""

from __future__ import annotations

import http.server
import io
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from memory_keyring import MemoryKeyring

from cogflow_desktop import audit, audit_anchor
from cogflow_desktop.cli import main
from cogflow_desktop.services import auth, runs, studies, users
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.models import AuditEvent

pytestmark = pytest.mark.usefixtures("central_login")

PW = "alice's long passphrase"


@pytest.fixture(params=["no keyring", "keyring"])
def data(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """Alice signs in and out (anchoring the chain), a few runs are recorded meanwhile."""
    previous = keyring.get_keyring()
    if request.param == "keyring":
        keyring.set_keyring(MemoryKeyring())
    else:
        from keyring.backends.fail import Keyring as Fail

        keyring.set_keyring(Fail())
    ctx = open_context(Settings.from_env(tmp_path))
    try:
        users.create_user(ctx, "alice", PW)
        login = auth.login(ctx, "alice", PW, "test")
        studies.publish(
            ctx, studies.PublishRequest("s", "s", "v1", {"timeline": []}, None, None),
            actor="alice", client="t",
        )  # fmt: skip
        for p in ("P1", "P2", "P3"):
            run = runs.start_run(ctx, "s", p, actor="anonymous", client="t")["run_session_id"]
            runs.submit(
                ctx, runs.SubmitRequest(run, "completed", 0, {}, {}, []), actor="a", client="t"
            )
        auth.logout(ctx, login.token, "test")
    finally:
        ctx.close()
    yield tmp_path
    keyring.set_keyring(previous)


def _verify(data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *extra: str) -> tuple[int, str, str]:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PW}\n"))
    code = main(["audit", "verify", "--data-dir", str(data), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _rows(data: Path) -> list[tuple]:
    with sqlite3.connect(data / "cogflow.sqlite3") as raw:
        return raw.execute("SELECT * FROM audit_events ORDER BY id").fetchall()


def _sql(data: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(data / "cogflow.sqlite3") as raw:
        raw.execute(statement, params)


def _rechain_from(data: Path, first: int) -> None:
    """Rewrite rows from `first` on and recompute every hash after it: the chain verifies."""
    ctx = open_context(Settings.from_env(data))
    try:
        with ctx.write() as s:
            events = s.query(AuditEvent).filter(AuditEvent.id >= first).order_by(AuditEvent.id)
            prev = s.get(AuditEvent, first - 1).hash  # type: ignore[union-attr]
            for event in events:
                if event.id == first:
                    event.details = {"rewritten": True}
                event.prev_hash = prev
                event.hash = audit._row_hash(prev, event)
                prev = event.hash
    finally:
        ctx.close()


def test_intact_log_and_anchor_verify(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _verify(data, monkeypatch, capsys)
    assert code == 0, err
    assert "Anchored at row" in out and "signature not checked" in out
    code, out, err = _verify(data, monkeypatch, capsys, "--user", "alice", "--password-stdin")
    assert code == 0, err
    assert "signature checked" in out


def test_deleting_the_newest_rows_is_reported(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    last = _rows(data)[-1][0]
    _sql(data, "DELETE FROM audit_events WHERE id > ?", last - 3)
    code, _, err = _verify(data, monkeypatch, capsys)
    assert code == 1 and "rows were deleted" in err


def test_rewriting_the_tail_and_chaining_it_anew_is_reported(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    last = _rows(data)[-1][0]
    _rechain_from(data, last - 2)
    ctx = open_context(Settings.from_env(data))
    try:
        with ctx.read() as s:
            assert audit.verify_chain(s).ok  # the chain alone is fooled
    finally:
        ctx.close()
    code, _, err = _verify(data, monkeypatch, capsys)
    assert code == 1 and "rewritten" in err


def test_a_forged_anchor_is_caught(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cut the log and write a matching anchor file without the key: the keyring's copy (where
    there is a keyring) or the signature check (--user) gives it away."""
    rows = _rows(data)
    _sql(data, "DELETE FROM audit_events WHERE id > ?", rows[-4][0])
    anchor_file = data / audit_anchor.ANCHOR_FILE
    old = json.loads(anchor_file.read_text())
    forged = {**old, "count": rows[-4][0], "head": rows[-4][-1]}
    anchor_file.write_text(json.dumps(forged))
    code, _, err = _verify(data, monkeypatch, capsys, "--user", "alice", "--password-stdin")
    assert code == 1 and "not signed" in err


def test_a_sign_in_after_the_cut_does_not_bless_it(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    last = _rows(data)[-1][0]
    _sql(data, "DELETE FROM audit_events WHERE id > ?", last - 3)
    ctx = open_context(Settings.from_env(data))
    try:
        login = auth.login(ctx, "alice", PW, "test")  # would anchor the cut log, if allowed
        auth.logout(ctx, login.token, "test")
    finally:
        ctx.close()
    code, _, err = _verify(data, monkeypatch, capsys)
    assert code == 1 and "rows were deleted" in err


def test_sync_sends_the_anchor(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every request of a sync carries it (the central server may keep it in its logs)."""
    seen: list[str | None] = []

    class Central(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(self.headers.get(audit_anchor.SYNC_HEADER))
            body = b'{"error": "not today"}'
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Central)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{PW}\n"))
        main(["sync", "--server", f"http://127.0.0.1:{server.server_port}", "--user", "alice",
              "--password-stdin", "--timeout", "5", "--data-dir", str(data)])  # fmt: skip
        capsys.readouterr()
    finally:
        server.shutdown()
    assert seen, "the sync sent nothing"
    anchor = json.loads(seen[0] or "{}")
    assert anchor["count"] >= 1 and anchor["mac"] and all(h == seen[0] for h in seen)
