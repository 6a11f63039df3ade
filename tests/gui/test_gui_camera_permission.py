"""Eye tracking's camera: the Qt host grants it to the Interpreter's own origin only.

QtWebEngine reads Chromium flags once per process, so the probe runs in its own process with
Chromium's fake camera and microphone (a machine without a camera never asks at all): the real
app runtime and web environment, the Interpreter page asking for the camera (granted) and the
microphone (refused), and a page of another loopback origin asking for the camera (refused;
its document is set by the host, as the app refuses to fetch anything from another origin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

PROBE = Path(__file__).with_name("camera_probe.py")
REFUSED = {"NotAllowedError", "AbortError"}


def test_camera_granted_to_the_interpreter_origin_only() -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --use-fake-device-for-media-stream",
    }
    proc = subprocess.run(
        [sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=180
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    got = json.loads(lines[-1])
    assert got["own_camera"] == "granted"
    # A refusal reaches the page as NotAllowedError in Chromium, AbortError in QtWebEngine.
    assert got["own_microphone"] in REFUSED and got["foreign_camera"] in REFUSED, got
    assert "Permission MediaVideoCapture refused to http://127.0.0.1:" in proc.stderr
