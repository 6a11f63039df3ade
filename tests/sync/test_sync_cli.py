"""`cogflow-desktop sync` as a user runs it: a sync killed with kill -9 and restarted still
delivers every run exactly once; `sync status` shows each state and reason; unattended mode."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import keyring
import pytest
from fault_proxy import FaultPlan, FaultProxy
from file_keyring import FileKeyring
from sync_helpers import (
    LAB_PASSWORD,
    LAB_USER,
    REMOTE_ADMIN,
    REMOTE_PASSWORD,
    ServerProcess,
    arrived,
    assert_same,
    cli,
    lab_context,
    local_results,
    make_trials,
    publish_local,
    seed_run,
)

from cogflow_desktop.security import keyring as install_keyring
from cogflow_desktop.services import users
from cogflow_desktop.sync import keystore

HERE = Path(__file__).resolve().parent


def acknowledged(db: Path) -> int:
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        row = conn.execute("SELECT count(*) FROM sync_states WHERE state='acknowledged'").fetchone()
        return int(row[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


# The lab researcher's password, then the central account's (--password-stdin reads both).
PASSWORDS = f"{LAB_PASSWORD}\n{REMOTE_PASSWORD}\n"


def sync_args(url: str, lab_dir: Path) -> list[str]:
    return [
        "sync", "--server", url, "--user", LAB_USER, "--password-stdin",
        "--remote-user", REMOTE_ADMIN,
        "--data-dir", str(lab_dir), "--workers", "4", "--timeout", "10",
    ]  # fmt: skip


def test_sync_killed_with_kill_9_and_restarted_delivers_each_run_once(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    ctx = lab_context(lab_dir, fast_writes=True)
    publish_local(ctx, "killed")
    for i in range(80):
        seed_run(ctx, "killed", f"K{i:03d}", make_trials(5))
    ctx.close()
    plan = FaultPlan(rates={"lose": 0.05, "drop": 0.02}, latency_seconds=0.05)
    with ServerProcess(tmp_path / "remote") as remote, FaultProxy(remote.url, plan) as proxy:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cogflow_desktop", *sync_args(proxy.url, lab_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(PASSWORDS)
        proc.stdin.close()
        deadline = time.monotonic() + 120
        while acknowledged(lab_dir / "cogflow.sqlite3") < 15 and time.monotonic() < deadline:
            assert proc.poll() is None, "the sync ended before it could be killed"
            time.sleep(0.05)
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up runs
        proc.wait(30)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            stream.close()
        at_kill = acknowledged(lab_dir / "cogflow.sqlite3")
        assert 15 <= at_kill < 80

        done = cli(*sync_args(proxy.url, lab_dir), stdin=PASSWORDS, timeout=300)
        assert done.returncode == 0, done.stderr
        assert f"Synced {80 - at_kill} run(s)" in done.stdout
        assert acknowledged(lab_dir / "cogflow.sqlite3") == 80
        remote.stop()

    ctx = lab_context(lab_dir)
    try:
        local = local_results(ctx)
        got = arrived(tmp_path / "remote")
        assert sorted(got.by_local_id) == sorted(local)
        for local_id, runs in got.by_local_id.items():
            assert len(runs) == 1, f"run {local_id} arrived {len(runs)} times"
            assert_same(local[local_id], runs[0])
    finally:
        ctx.close()


def test_status_shows_states_and_the_servers_reason(
    tmp_path: Path, shared_remote: ServerProcess
) -> None:
    lab_dir = tmp_path / "lab"
    ctx = lab_context(lab_dir)
    publish_local(ctx, "status-study")
    seed_run(ctx, "status-study", "S1", make_trials(3))
    refused = seed_run(ctx, "status-study", "y" * 300, make_trials(3))
    ctx.close()
    done = cli(*sync_args(shared_remote.url, lab_dir), stdin=PASSWORDS)
    assert done.returncode == 1
    assert f"Run {refused} failed (refused): The server answered 400:" in done.stdout
    assert "1 acknowledged, 1 failed" in done.stdout

    table = cli("sync", "status", "--data-dir", str(lab_dir))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:6] == ["RUN", "STUDY", "STARTED", "(UTC)", "RUN", "STATUS"]
    failed_line = next(line for line in lines if line.startswith(refused))
    assert "failed" in failed_line and "participant_external_id" in failed_line
    # Our own server as the receiving end does not name study owners: status says so.
    assert (
        f"  status-study/v1 → status-study (v1) on {shared_remote.url}: the server did not "
        "say which account owns it." in lines
    )
    assert lines[-1] == "1 acknowledged; 1 failed"

    as_json = json.loads(cli("sync", "status", "--json", "--data-dir", str(lab_dir)).stdout)
    assert as_json["counts"] == {"acknowledged": 1, "failed": 1}
    bad = next(r for r in as_json["runs"] if r["run_session_id"] == refused)
    assert bad["retryable"] is False and "participant_external_id" in bad["reason"]
    assert [st["remote_study_slug"] for st in as_json["studies"]] == ["status-study"]


def test_plain_errors(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    ctx = lab_context(lab_dir)
    publish_local(ctx, "errors")
    seed_run(ctx, "errors", "E1", make_trials(2))
    ctx.close()
    nobody = cli(*sync_args("http://127.0.0.1:9", lab_dir), stdin=PASSWORDS)
    assert nobody.returncode == 1
    assert nobody.stderr.strip() == (
        "cogflow-desktop: Could not reach the server at http://127.0.0.1:9: "
        "The connection to the server failed or was cut off."
    )
    no_user = cli("sync", "--server", "http://127.0.0.1:9", "--data-dir", str(lab_dir))
    assert no_user.returncode == 1
    assert no_user.stderr.strip().endswith("or use --unattended.")
    wrong = cli(*sync_args("http://127.0.0.1:9", lab_dir), stdin="not the password\n")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == "cogflow-desktop: The username or password is not correct."
    bad_url = cli("sync", "--server", "ftp:/x", "--user", "lab", "--data-dir", str(lab_dir))
    assert bad_url.returncode == 1 and "is not a server address" in bad_url.stderr


def test_unattended_needs_an_os_keyring(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    lab_context(lab_dir).close()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    on = subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", "sync", "unattended", "on", "--user", LAB_USER,
         "--password-stdin", "--data-dir", str(lab_dir)],
        input=LAB_PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert on.returncode == 1
    assert "No OS keyring is available on this computer" in on.stderr
    off = cli(
        "sync", "--unattended", "--server", "http://127.0.0.1:9", "--remote-user", REMOTE_ADMIN,
        "--data-dir", str(lab_dir),
    )  # fmt: skip
    assert off.returncode == 1 and "Unattended sync is off" in off.stderr


def test_unattended_sync_end_to_end(tmp_path: Path, shared_remote: ServerProcess) -> None:
    lab_dir = tmp_path / "lab"
    ctx = lab_context(lab_dir)
    publish_local(ctx, "unattended")
    seed_run(ctx, "unattended", "U1", make_trials(3))
    ctx.close()
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "COGFLOW_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "COGFLOW_REMOTE_USER": REMOTE_ADMIN,
        "COGFLOW_REMOTE_PASSWORD": REMOTE_PASSWORD,
    }

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cogflow_desktop", *args, "--data-dir", str(lab_dir)],
            input=stdin, capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip

    on = run("sync", "unattended", "on", "--user", LAB_USER, "--server", shared_remote.url,
             "--password-stdin", stdin=LAB_PASSWORD)  # fmt: skip
    assert on.returncode == 0, on.stderr
    synced = run("sync", "--unattended", "--server", shared_remote.url)
    assert synced.returncode == 0, synced.stderr
    assert "1 acknowledged" in synced.stdout
    assert run("sync", "unattended", "off").returncode == 0
    again = run("sync", "--unattended", "--server", shared_remote.url)
    assert again.returncode == 1 and "Unattended sync is off" in again.stderr


def test_keystore_halves_reveal_nothing_alone(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COGFLOW_TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    ctx = lab_context(tmp_path / "lab")
    try:
        key = users.unlock_with_password(ctx, LAB_USER, LAB_PASSWORD)
        keystore.enable(ctx, key, actor=LAB_USER, server_url="https://central.example")
        raw = key.private_bytes_raw()
        stored = (tmp_path / "lab" / keystore.KEY_FILE).read_bytes()
        assert raw not in stored
        assert raw.hex() not in (tmp_path / "keyring.json").read_text()
        unlocked = keystore.unlock(ctx, "https://central.example")
        assert install_keyring.public_bytes(unlocked) == install_keyring.public_bytes(key)
        (tmp_path / "keyring.json").write_text("{}")  # the keyring entry is gone
        with pytest.raises(keystore.KeystoreError, match="no longer holds"):
            keystore.unlock(ctx, "https://central.example")
        keystore.disable(ctx, actor=LAB_USER)
        with pytest.raises(keystore.KeystoreError, match="Unattended sync is off"):
            keystore.unlock(ctx, "https://central.example")
    finally:
        keyring.set_keyring(previous)
        ctx.close()


def test_remote_login_password_from_the_next_stdin_line(
    tmp_path: Path, shared_remote: ServerProcess
) -> None:
    lab_dir = tmp_path / "lab"
    ctx = lab_context(lab_dir)
    publish_local(ctx, "remote-login")
    seed_run(ctx, "remote-login", "R1", make_trials(3))
    ctx.close()
    args = sync_args(shared_remote.url, lab_dir)
    env_free = {k: v for k, v in os.environ.items() if k != "COGFLOW_REMOTE_PASSWORD"}
    wrong = subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", *args],
        input=f"{LAB_PASSWORD}\nnot the remote password\n",
        capture_output=True, text=True, env=env_free, timeout=120,
    )  # fmt: skip
    assert wrong.returncode == 1
    assert "refused the sync. The server answered 401" in wrong.stderr
    done = subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", *args],
        input=f"{LAB_PASSWORD}\n{REMOTE_PASSWORD}\n",
        capture_output=True, text=True, env=env_free, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 acknowledged" in done.stdout
