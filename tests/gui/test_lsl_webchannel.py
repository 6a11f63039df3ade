"""LSL markers of a real run in the app: the Interpreter in the kiosk (QtWebEngine offscreen)
hands its events to the marker host over Qt WebChannel; a real LSL inlet on loopback receives
every marker in order, with timestamps whose differences are the rows' onset differences, and
every trigger code reaches the (loop://) port. The page's Content-Security-Policy is not
involved: the app injects the QWebChannel class, the page loads no qrc: script."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from gui_helpers import run_js, wait_js
from lsl_helpers import MarkerInlet

from cogflow_desktop.gui.kiosk import KioskWindow
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.gui.webviews import WebEnvironment
from cogflow_desktop.hardware import machine, registry
from cogflow_desktop.services import studies, users

SLUG = "lsl-kiosk"
CODES = {"flanker-trial": 10, "response": 99}
CONFIG: dict[str, Any] = {
    "experiment_type": "trial-based",
    "task_type": "flanker",
    "lsl": {"enabled": True, "stream_name": "EEG lab flanker"},
    "triggers": {"enabled": True, "codes": CODES},
    "timeline": [
        {
            "type": "block",
            "component_type": "flanker-trial",
            "length": 6,
            "parameter_values": {
                "stimulus_duration_ms": 100,
                "trial_duration_ms": 250,  # no responses: every trial runs to its deadline
                "iti_ms": 100,
                "target_direction": ["left", "right"],
                "congruency": ["congruent"],
            },
        }
    ],
}
RESULT_JS = """(() => {
  const run = window.cogflowRun;
  return JSON.stringify({
    rows: run ? run.rows : [],
    lsl: run ? run.lsl : null,
    transport: run && run.markers ? run.markers.transport.kind : null,
  });
})()"""


@pytest.fixture()
def kiosk_env(qtbot: Any, runtime: AppRuntime) -> Iterator[dict[str, Any]]:
    users.create_user(runtime.ctx, "admin", "correct horse battery")
    studies.publish(
        runtime.ctx,
        studies.PublishRequest(SLUG, SLUG, "v1", CONFIG),
        actor="test",
        client=None,
    )
    data_dir = runtime.ctx.settings.data_dir
    machine.save(
        data_dir, machine.HardwareSettings(lsl_enabled=True, trigger_port="loop://", pulse_ms=1)
    )
    host = registry.ensure_host(runtime.ctx)  # as the app makes it: from hardware.json
    opened, problems = host.open_study_streams()
    assert problems == [] and [o.name for o in opened] == ["EEG lab flanker"]
    inlet = MarkerInlet.open(opened[0].source_id)
    env = WebEnvironment(data_dir, runtime.url, runtime.app_token)
    yield {"host": host, "inlet": inlet, "env": env, "runtime": runtime}
    inlet.close()
    env.release()
    registry.detach(runtime.ctx)


def test_kiosk_run_sends_every_marker_over_webchannel(
    qtbot: Any, kiosk_env: dict[str, Any]
) -> None:
    env, runtime = kiosk_env["env"], kiosk_env["runtime"]
    kiosk = KioskWindow(env, runtime.ctx, SLUG, "EEG-02", ["admin"])
    try:
        kiosk.start()
        wait_js(
            qtbot,
            kiosk.page,
            "document.getElementById('cogflow-root').dataset.cogflowState",
            lambda v: v == "saved",
            timeout=120000,
        )
        page = json.loads(run_js(qtbot, kiosk.page, RESULT_JS))
    finally:
        kiosk.force_close()
    assert page["transport"] == "webchannel"
    lsl = page["lsl"]
    n = lsl["markers_sent"]
    markers = kiosk_env["inlet"].pull(n, timeout=30)
    assert len(markers) == n == lsl["markers_pushed"]
    assert [m["seq"] for m, _ in markers] == list(range(n))
    events = [m["event"] for m, _ in markers]
    assert events[:2] == ["run_start", "block_start"] and events[-2:] == ["block_end", "run_end"]
    assert lsl["reasons"] == [] and lsl["transport"] == "webchannel"
    assert lsl["stream_name"] == "EEG lab flanker" and lsl["clock"]["syncs"]

    rows = [r for r in page["rows"] if r["component_type"] == "flanker-trial"]
    assert len(rows) == 6
    onsets = [(m, ts) for m, ts in markers if m["event"] == "onset"]
    offsets = [m for m, _ in markers if m["event"] == "offset"]
    assert [m["trial_index"] for m, _ in onsets] == [r["trial_index"] for r in rows]
    for r, (m, ts), off in zip(rows, onsets, offsets, strict=True):
        assert m["t_ms"] == pytest.approx(r["stimulus_onset_ms"], abs=0.002)
        assert off["t_ms"] == pytest.approx(r["stimulus_offset_ms"], abs=0.002)
        assert r["lsl_onset_time"] == pytest.approx(ts, abs=1e-9)
        d_lsl = ts - onsets[0][1]
        d_row = (r["stimulus_onset_ms"] - rows[0]["stimulus_onset_ms"]) / 1000
        assert abs(d_lsl - d_row) < 0.002
    assert not any(e == "response" for e in events)  # nobody answered

    port = kiosk_env["host"].trigger_port
    assert port is not None
    assert port.serial.read(64) == bytes([10, 0] * 6)


# The policy the app's pages are served with (script-src 'self': no inline script, no qrc:).
STRICT_CSP = "default-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'"
PLAIN_PAGE = b"<!doctype html><html><body>no script of its own</body></html>"
CALL_JS = """(() => {
  window.__answer = null;
  if (typeof QWebChannel !== 'function' || !window.qt || !qt.webChannelTransport) {
    return 'no channel';
  }
  new QWebChannel(qt.webChannelTransport, (ch) => {
    ch.objects.cogflowMarkers.call(JSON.stringify({op: 'clock'}), (r) => { window.__answer = r; });
  });
  return 'called';
})()"""


class _StrictPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", STRICT_CSP)
        self.send_header("Content-Length", str(len(PLAIN_PAGE)))
        self.end_headers()
        self.wfile.write(PLAIN_PAGE)

    def log_message(self, *_args: Any) -> None:
        pass


def test_the_bridge_works_under_a_strict_csp(qtbot: Any, runtime: AppRuntime) -> None:
    """The QWebChannel class comes from the app (injected at document creation), not from a
    script the page loads, so a page served with `script-src 'self'` (no 'unsafe-inline', no
    qrc:) gets the bridge; a page of another origin gets a refusal."""
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from cogflow_desktop.gui.marker_bridge import attach_marker_bridge

    http = ThreadingHTTPServer(("127.0.0.1", 0), _StrictPage)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    own = f"http://127.0.0.1:{http.server_address[1]}"
    view = QWebEngineView()
    qtbot.addWidget(view)
    page = QWebEnginePage(view)
    view.setPage(page)
    attach_marker_bridge(page, runtime.ctx, own)  # this page's origin is "the app's" here
    try:
        with qtbot.waitSignal(page.loadFinished, timeout=30000):
            page.load(QUrl(f"{own}/interpreter/"))
        # The policy is in force: the page's own inline script does not run.
        inline = "const s = document.createElement('script'); s.textContent = 'window.__x = 1';"
        assert run_js(qtbot, page, f"{inline} document.body.appendChild(s); window.__x ?? 0") == 0
        assert run_js(qtbot, page, CALL_JS) == "called"
        answer = json.loads(wait_js(qtbot, page, "window.__answer", lambda v: v is not None))
        assert isinstance(answer["lsl_s"], float)
        with qtbot.waitSignal(page.loadFinished, timeout=30000):
            page.setHtml(PLAIN_PAGE.decode(), QUrl("http://127.0.0.1:9/"))
        assert run_js(qtbot, page, CALL_JS) == "called"
        answer = json.loads(wait_js(qtbot, page, "window.__answer", lambda v: v is not None))
        assert answer == {"error": "Only the CogFlow Interpreter may send markers.", "status": 403}
    finally:
        http.shutdown()
        registry.detach(runtime.ctx)
