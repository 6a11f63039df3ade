"""The app's engine room: a healthy server on loopback, the per-launch token for writes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from gui_helpers import Researcher

from cogflow_desktop.api.web import APP_TOKEN_HEADER
from cogflow_desktop.gui.runtime import AppRuntime, StartupError, start_runtime, wait_healthy
from cogflow_desktop.services import runs, studies
from cogflow_desktop.store.models import RunSession

pytestmark = pytest.mark.gui

CONFIG = {"task_type": "flanker", "timeline": []}


def _publish(url: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/configs/publish",
        json={
            "study_slug": "s1",
            "study_name": "S1",
            "config_version_label": "v1",
            "config": CONFIG,
        },
        headers=headers,
        timeout=30,
    )


def test_server_is_healthy_on_loopback(runtime: AppRuntime) -> None:
    assert runtime.url.startswith("http://127.0.0.1:")
    assert requests.get(f"{runtime.url}/healthz", timeout=10).json() == {"ok": True}


def test_writes_need_this_launch_token(runtime: AppRuntime) -> None:
    assert _publish(runtime.url, {}).status_code == 403
    assert _publish(runtime.url, {APP_TOKEN_HEADER: "not-the-token"}).status_code == 403
    assert _publish(runtime.url, {APP_TOKEN_HEADER: runtime.app_token}).status_code == 201


def test_dev_origins_only_when_asked(
    tmp_path: Path, runtime: AppRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = {"Origin": "http://127.0.0.1:5500"}
    assert runtime.settings.extra_origins == ()
    assert _publish(runtime.url, dev).status_code == 403
    monkeypatch.setenv("COGFLOW_ALLOWED_ORIGINS", "http://127.0.0.1:5500")
    other = start_runtime(tmp_path / "dev", port=0)
    try:
        assert _publish(other.url, dev).status_code == 201
    finally:
        other.stop()


def test_busy_preferred_port_falls_back_to_a_free_one(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        rt = start_runtime(tmp_path, port=busy)
        try:
            assert rt.server.port != busy
            wait_healthy(rt.url, timeout=5)
        finally:
            rt.stop()


def test_unhealthy_server_is_a_plain_sentence() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StartupError, match="did not become healthy"):
        wait_healthy(f"http://127.0.0.1:{port}", timeout=0.5)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COGFLOW_DATA_DIR"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "cogflow_desktop", *args],
            capture_output=True, text=True, timeout=90, env=env, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:  # e.g. a second server that did start
        raise AssertionError(f"`{' '.join(args)}` did not end by itself") from exc


def test_one_app_or_server_per_data_folder(runtime: AppRuntime, researcher: Researcher) -> None:
    """#12.5: a second app or `serve` on the folder refuses with a sentence, and neither it nor
    a CLI command beside the app flags the app's live run as interrupted."""
    ctx = runtime.ctx
    studies.publish(
        ctx,
        studies.PublishRequest("live", "Live", "v1", {"task_type": "flanker", "timeline": [{}]}),
        actor="test",
        client="test",
    )
    run_id = runs.start_run(ctx, "live", "P1", actor="anonymous", client="test")["run_session_id"]
    data_dir = str(runtime.settings.data_dir)

    with pytest.raises(StartupError, match="already in use by the CogFlow Desktop app"):
        start_runtime(data_dir, port=0)
    served = _cli("serve", "--port", "0", "--data-dir", data_dir)
    assert served.returncode == 1
    lines = [line for line in served.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "already in use by the CogFlow Desktop app" in lines[0], lines
    assert _cli("audit", "verify", "--data-dir", data_dir).returncode == 0

    with ctx.read() as s:
        run = s.get(RunSession, run_id)
        assert run is not None and run.status == "started" and run.interrupted_at is None


def test_the_folder_is_free_again_once_the_app_stopped(tmp_path: Path) -> None:
    first = start_runtime(tmp_path, port=0)
    first.stop()
    second = start_runtime(tmp_path, port=0)
    second.stop()
