"""Kill -9 the server while trials stream in: every acknowledged trial survives the crash."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from pathlib import Path

import pyotp
import pytest
import requests
from cli_helpers import ADMIN, ADMIN_PASSWORD, create_admin, start_serve

ACKS_BEFORE_KILL = 40


def _stream_checkpoints(url: str, run_id: str, acked: list[int], stop: threading.Event) -> None:
    """One checkpoint per trial, as the Interpreter sends them; record what was acknowledged."""
    http = requests.Session()
    index = 0
    while not stop.is_set():
        try:
            resp = http.post(
                f"{url}/api/v1/results/checkpoint",
                json={
                    "run_session_id": run_id,
                    "checkpoint_label": f"trial-{index}",
                    "checkpoint_index": index,
                    "trial_count": index + 1,
                    "result_payload": {"upto": index},
                    "trials": [{"trial_index": index, "rt_ms": 250 + index}],
                },
                timeout=10,
            )
        except requests.RequestException:
            return  # the server is gone
        if resp.status_code == 200 and resp.json().get("stored") is True:
            acked.append(index)
        index += 1


def _researcher(url: str) -> requests.Session:
    http = requests.Session()
    login = http.post(
        f"{url}/api/v1/auth/login",
        json={"username": ADMIN, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    http.headers["X-CSRFToken"] = http.cookies["csrftoken"]
    secret = http.post(f"{url}/api/v1/auth/mfa/setup", json={}, timeout=30).json()["totp_secret"]
    code = pyotp.TOTP(secret).now()
    assert http.post(f"{url}/api/v1/auth/mfa/verify", json={"code": code}, timeout=30).ok
    return http


@pytest.mark.slow
def test_acknowledged_trials_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    create_admin(data_dir)
    server = start_serve(data_dir)
    try:
        url = server.url
        published = requests.post(
            f"{url}/api/v1/configs/publish",
            json={
                "study_slug": "crash",
                "study_name": "Crash",
                "config_version_label": "v1",
                "config": {"task_type": "rdm", "timeline": []},
            },
            timeout=30,
        )
        assert published.status_code == 201
        start = requests.post(
            f"{url}/api/v1/runs/start", json={"study_slug": "crash"}, timeout=30
        ).json()
        run_id = start["run_session_id"]
        finished = requests.post(
            f"{url}/api/v1/runs/start", json={"study_slug": "crash"}, timeout=30
        ).json()["run_session_id"]
        done = requests.post(
            f"{url}/api/v1/results/submit",
            json={
                "run_session_id": finished,
                "status": "completed",
                "trial_count": 0,
                "result_payload": {},
            },
            timeout=30,
        )
        assert done.status_code == 201

        acked: list[int] = []
        stop = threading.Event()
        streamer = threading.Thread(
            target=_stream_checkpoints, args=(url, run_id, acked, stop), daemon=True
        )
        streamer.start()
        deadline = time.monotonic() + 60
        while len(acked) < ACKS_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(acked) >= ACKS_BEFORE_KILL, "the checkpoints did not flow"
        server.kill()  # mid-stream: the streamer is still sending
        stop.set()
        streamer.join(timeout=30)
        assert not streamer.is_alive()
        assert server.proc.returncode != 0
    finally:
        if server.proc.poll() is None:
            server.kill()

    # Nothing to do with the crash yet: the file itself is sound.
    with sqlite3.connect(data_dir / "cogflow.sqlite3") as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    restarted = start_serve(data_dir)
    try:
        url = restarted.url
        http = _researcher(url)
        decrypted = http.post(
            f"{url}/api/v1/results/decrypt",
            json={"run_session_id": run_id, "include_trials": True},
            timeout=60,
        )
        assert decrypted.status_code == 200, decrypted.text
        body = decrypted.json()
        stored = {t["trial_index"] for t in body["trials"]}
        missing = sorted(set(acked) - stored)
        assert missing == [], f"acknowledged trials lost in the crash: {missing}"
        assert all(t["rt_ms"] == 250 + t["trial_index"] for t in body["trials"])
        assert body["interrupted"] is True and body["status"] == "started"

        runs = http.get(f"{url}/api/v1/studies/crash/runs", timeout=30).json()["runs"]
        by_id = {r["run_session_id"]: r for r in runs}
        assert by_id[run_id]["interrupted"] is True
        assert by_id[finished]["interrupted"] is False
        assert by_id[finished]["status"] == "completed"

        # A page that is still alive after the crash may keep sending: still accepted.
        late = requests.post(
            f"{url}/api/v1/results/checkpoint",
            json={"run_session_id": run_id, "trials": [{"trial_index": 100_000}]},
            timeout=30,
        )
        assert late.status_code == 200 and late.json()["stored"] is True

        with sqlite3.connect(data_dir / "cogflow.sqlite3") as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        code = restarted.stop()
    if sys.platform != "win32":  # terminate() is TerminateProcess there: no clean exit code
        assert code == 0, restarted.stderr()
