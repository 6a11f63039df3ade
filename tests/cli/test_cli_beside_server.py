"""A command-line tool opened beside a running server must not disturb the runs it records."""

from __future__ import annotations

import subprocess
import sys

import requests
from conftest import LiveServer, publish

from cogflow_desktop.store.models import RunSession


def test_cli_command_leaves_a_live_run_alone(live_server: LiveServer) -> None:
    publish(live_server.url, "live-run-study", {"task_type": "flanker", "timeline": []})
    start = requests.post(f"{live_server.url}/api/v1/runs/start",
                          json={"study_slug": "live-run-study", "participant_external_id": "P1"},
                          timeout=30)
    run_id = start.json()["run_session_id"]

    done = subprocess.run(
        [sys.executable, "-m", "cogflow_desktop", "audit", "verify",
         "--data-dir", str(live_server.data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr

    with live_server.ctx.read() as s:
        run = s.get(RunSession, run_id)
        assert run is not None
        assert run.status == "started"
        assert run.interrupted_at is None
    # ...and the run goes on recording.
    cp = requests.post(f"{live_server.url}/api/v1/results/checkpoint",
                       json={"run_session_id": run_id, "trials": [{"trial_index": 0}]}, timeout=30)
    assert cp.status_code == 200 and cp.json()["stored"] is True
