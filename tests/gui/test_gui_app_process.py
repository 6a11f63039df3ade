"""The real entry point in its own process: `cogflow-desktop` with no command shows the window,
then opens the data folder with a healthy server beside it, loads a web view, and on quit
leaves no web engine process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.gui


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="checks helper processes with POSIX signals")
def test_app_starts_healthy_and_quits_cleanly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COGFLOW_DATA_DIR": str(tmp_path / "data"),
        "COGFLOW_GUI_SMOKE": "1",
        "COGFLOW_PORT": "0",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "cogflow_desktop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    # The window answered first, before the data folder was open (start-up beside it).
    assert "window_ms" in lines[0] and lines[0]["visible"] is True, lines
    assert lines[0]["data_ready"] is False
    ready = next(x for x in lines if "ready_ms" in x)
    web = next(x for x in lines if "render_pid" in x)
    assert ready["url"].startswith("http://127.0.0.1:")
    assert web["web_loaded"] is True and web["render_pid"] > 0
    # The server went down with the app.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{ready['url']}/healthz", timeout=5)
    # The renderer ended with it (allow the OS a moment to reap it).
    deadline = time.monotonic() + 15
    while _alive(web["render_pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(web["render_pid"])
    log = (tmp_path / "data" / "logs" / "cogflow-desktop.log").read_text(encoding="utf-8")
    assert "CogFlow Desktop stopped" in log
