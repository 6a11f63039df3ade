"""The app's engine room: a healthy server on loopback, the per-launch token for writes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from cogflow_desktop.api.web import APP_TOKEN_HEADER
from cogflow_desktop.gui.runtime import AppRuntime, StartupError, start_runtime, wait_healthy

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
