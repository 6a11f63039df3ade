"""Benchmark: LSL marker latency and clock-offset uncertainty, per transport. Prints one JSON
document.

    python bench/bench_lsl.py [--trials 40] [--transports webchannel,http]

Runs a fixed-timing flanker block (stimulus 200 ms, response window 600 ms, ITI 300 ms, no
responses; with trigger codes on pyserial's loop:// port) against a real embedded server with
a marker host, in
- `webchannel`: offscreen QtWebEngine with the app's WebChannel bridge (the desktop app), and
- `http`: Chromium (Playwright) posting to the local server (`cogflow-desktop serve --lsl`),
while an LSL inlet on loopback (a recorder) collects the stream.

Reported per transport:
- `push_latency_ms`: event time (the page's frame timestamp of an onset, mapped to the LSL
  clock) to the host's push_sample, from the run's record (`result_payload.lsl`);
- `inlet_latency_ms`: event time to the moment the inlet had the marker (what a recorder or an
  online analysis sees), per event type;
- `clock`: every burst's shortest round trip and the offset's uncertainty bound (half that round
  trip plus the page clock's 0.1 ms resolution), and the offset drift over the run;
- `trigger_lateness_ms`: trigger code written minus its planned time (the event time; the
  machine's onset delay is 0 here).
The load average is printed beside the numbers: the machine may be shared. Latency includes
whatever the operating system's scheduler adds under that load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")
# LSL on this machine only (no multicast needed), with a session of its own.
_CFG = Path(tempfile.gettempdir()) / f"cogflow-bench-lsl-{os.getpid()}.cfg"
_CFG.write_text(
    "[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\n"
    f"[lab]\nKnownPeers = {{127.0.0.1}}\nSessionID = cogflow-bench-{os.getpid()}\n"
    "[log]\nlevel = -2\n",
    encoding="utf-8",
)
os.environ["LSLAPICFG"] = str(_CFG)

from bench_timing import config as flanker_block  # noqa: E402
from bench_timing import load  # noqa: E402

STIMULUS_MS, WINDOW_MS, ITI_MS = 200, 600, 300
STATE_JS = "document.getElementById('cogflow-root').dataset.cogflowState"
RESULT_JS = "JSON.stringify(window.cogflowRun ? window.cogflowRun.lsl : null)"


def config(trials: int) -> dict[str, Any]:
    """bench_timing.py's flanker block, shorter, with LSL markers and a trigger code."""
    return {
        **flanker_block(trials, STIMULUS_MS, WINDOW_MS, ITI_MS),
        "lsl": {"enabled": True},
        "triggers": {"enabled": True, "codes": {"flanker-trial": 10}},
    }


def summary(xs: list[float], nd: int = 3) -> dict[str, Any]:
    if not xs:
        return {"n": 0}
    s = sorted(xs)
    return {
        "n": len(s),
        "median": round(statistics.median(s), nd),
        "p95": round(s[min(len(s) - 1, int(0.95 * len(s)))], nd),
        "min": round(s[0], nd),
        "max": round(s[-1], nd),
    }


class Recorder:
    """An LSL inlet in a thread, noting when each marker arrived (LSL clock)."""

    def __init__(self, source_id: str) -> None:
        import pylsl

        found = pylsl.resolve_byprop("source_id", source_id, timeout=30)
        if not found:
            raise SystemExit(f"No LSL stream with source id {source_id}.")
        self.pylsl = pylsl
        self.inlet = pylsl.StreamInlet(found[0], max_buflen=360)
        self.inlet.open_stream(timeout=30)
        self.got: list[tuple[dict[str, Any], float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            sample, ts = self.inlet.pull_sample(timeout=0.2)
            if sample is not None:
                self.got.append((json.loads(sample[0]), ts, self.pylsl.local_clock()))

    def take(self) -> list[tuple[dict[str, Any], float, float]]:
        time.sleep(1.0)
        out, self.got = self.got, []
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.inlet.close_stream()


def run_webchannel(url: str, ctx: Any, slug: str, timeout_s: float) -> dict[str, Any]:
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from cogflow_desktop.gui.marker_bridge import attach_marker_bridge

    view = QWebEngineView()
    view.resize(1280, 800)
    attach_marker_bridge(view.page(), ctx, url)
    view.show()
    view.load(QUrl(f"{url}/interpreter/?study={slug}&participant=bench-webchannel"))

    def evaluate(js: str) -> Any:
        loop = QEventLoop()
        box: list[Any] = []
        view.page().runJavaScript(js, 0, lambda v: (box.append(v), loop.quit()))
        QTimer.singleShot(30000, loop.quit)
        loop.exec()
        return box[0] if box else None

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pause = QEventLoop()
        QTimer.singleShot(500, pause.quit)
        pause.exec()
        if evaluate(STATE_JS) in ("saved", "error", "invalid-config", "unsupported"):
            break
    state = evaluate(STATE_JS)
    lsl = json.loads(evaluate(RESULT_JS) or "null")
    page = view.page()
    view.close()
    page.deleteLater()
    view.deleteLater()
    if state != "saved" or not lsl:
        raise SystemExit(f"The WebChannel run did not finish (state {state!r}).")
    return lsl


def run_http(url: str, slug: str, timeout_s: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-timer-throttling"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
            page.goto(f"{url}/interpreter/?study={slug}&participant=bench-http")
            page.wait_for_function(f"{STATE_JS} === 'saved'", timeout=timeout_s * 1000)
            return json.loads(page.evaluate(RESULT_JS))
        finally:
            browser.close()


def report(
    lsl: dict[str, Any], received: list[tuple[dict[str, Any], float, float]]
) -> dict[str, Any]:
    by_event: dict[str, list[float]] = {}
    for marker, ts, at in received:
        by_event.setdefault(marker["event"], []).append((at - ts) * 1000)
    syncs = lsl["clock"]["syncs"]
    return {
        "markers_sent": lsl["markers_sent"],
        "markers_received_by_inlet": len(received),
        "push_latency_ms": lsl["marker_latency_ms"],
        "inlet_latency_ms": {e: summary(v) for e, v in sorted(by_event.items())},
        "clock": {
            "bursts": len(syncs),
            "uncertainty_ms_in_use": round(lsl["clock"]["uncertainty_s"] * 1000, 3),
            "uncertainty_ms_per_burst": summary([s["uncertainty_s"] * 1000 for s in syncs]),
            "best_rtt_ms_per_burst": summary([s["rtt_ms"] for s in syncs]),
            "drift_ms_over_run": None
            if lsl["clock"]["drift_s"] is None
            else round(lsl["clock"]["drift_s"] * 1000, 3),
        },
        "trigger_lateness_ms": {
            k: lsl["triggers"][k] for k in ("sent", "lateness_ms_median", "lateness_ms_max")
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--transports", default="webchannel,http")
    args = parser.parse_args()
    transports = [t.strip() for t in args.transports.split(",") if t.strip()]

    import requests
    from PySide6.QtWidgets import QApplication

    from cogflow_desktop.api.server import EmbeddedServer
    from cogflow_desktop.hardware import lsl as lsl_mod
    from cogflow_desktop.hardware import machine, registry
    from cogflow_desktop.hardware.host import MarkerHost
    from cogflow_desktop.services import users
    from cogflow_desktop.services.context import open_context
    from cogflow_desktop.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    load_before = load()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ctx = open_context(Settings.from_env(Path(tmp) / "data"))
        users.create_user(ctx, "bench", "bench password long enough")
        server = EmbeddedServer(ctx, port=0).start()
        settings = machine.HardwareSettings(lsl_enabled=True, trigger_port="loop://", pulse_ms=1)
        host = registry.attach(ctx, MarkerHost(ctx, settings))
        try:
            resp = requests.post(
                f"{server.url}/api/v1/configs/publish",
                json={
                    "study_slug": "bench-lsl",
                    "study_name": "bench lsl",
                    "config_version_label": "v1",
                    "config": config(args.trials),
                },
                timeout=30,
            )
            resp.raise_for_status()
            slug = resp.json()["study_slug"]
            opened, problems = host.open_study_streams()
            if problems:
                raise SystemExit(problems[0])
            recorder = Recorder(opened[0].source_id)
            timeout_s = 120 + args.trials * (WINDOW_MS + ITI_MS) / 1000 * 3
            for transport in transports:
                started = time.monotonic()
                if transport == "webchannel":
                    lsl = run_webchannel(server.url, ctx, slug, timeout_s)
                elif transport == "http":
                    lsl = run_http(server.url, slug, timeout_s)
                else:
                    raise SystemExit(f"Unknown transport {transport!r}.")
                results[transport] = report(lsl, recorder.take())
                results[transport]["wall_s"] = round(time.monotonic() - started, 1)
                results[transport]["load_average_after"] = load()
            recorder.close()
        finally:
            registry.detach(ctx)
            server.stop()
            ctx.close()
    del app
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWebEngineCore import qWebEngineChromiumVersion

    out = {
        "benchmark": "lsl_marker_latency_and_clock_offset",
        "design": {
            "trials": args.trials,
            "stimulus_ms": STIMULUS_MS,
            "response_window_ms": WINDOW_MS,
            "iti_ms": ITI_MS,
            "responses": "none",
            "triggers": "loop://, code 10 at each onset, pulse 1 ms",
        },
        "transports": results,
        "load_average_before": load_before,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "lsl_library": lsl_mod.available()[1],
        "pyside6": pyside_version,
        "chromium_in_qtwebengine": qWebEngineChromiumVersion(),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
