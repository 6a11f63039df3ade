"""LSL markers and trigger codes of a real run over HTTP, as `cogflow-desktop serve --lsl`
sends them: the Interpreter in Chromium (Playwright) against the real embedded server with a
marker host attached, a real LSL inlet on loopback, and a socat pseudo-terminal pair standing
in for a USB trigger box.

Checked: every marker arrives, in order; each row's onset, offset and response has its marker
with the row's own time; LSL timestamp differences equal the rows' onset differences (within
2 ms, the issue's bound; by construction they agree far closer); the rows' `lsl_onset_time` is
the onset marker's timestamp; block boundaries and DRT events are there; every trigger code
reaches the other end of the port; the stored result records the stream and the clock.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM
from conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    LiveServer,
    enrolled_researcher,
    publish,
    start_live_server,
    stop_live_server,
)
from lsl_helpers import MarkerInlet

from cogflow_desktop.export.options import ExportOptions
from cogflow_desktop.export.service import export_study
from cogflow_desktop.hardware import machine, registry
from cogflow_desktop.hardware.host import MarkerHost
from cogflow_desktop.services import users

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")

SOCAT = shutil.which("socat")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not installed"),
    pytest.mark.skipif(
        SOCAT is None or sys.platform == "win32", reason="socat (apt-get install socat) missing"
    ),
]
SLUG = "lsl-http"
STATE = "document.getElementById('cogflow-root').dataset.cogflowState"
CODES = {"flanker-trial": 10, "drt-stimulus": 20, "response": 99}


def flanker_block(n: int) -> dict[str, Any]:
    return {
        "type": "block",
        "component_type": "flanker-trial",
        "length": n,
        "parameter_values": {
            "stimulus_duration_ms": 150,
            "trial_duration_ms": 450,
            "iti_ms": 150,
            "target_direction": ["left", "right"],
            "congruency": ["congruent", "incongruent"],
        },
    }


CONFIG: dict[str, Any] = {
    "experiment_type": "trial-based",
    "task_type": "flanker",
    "lsl": {"enabled": True},
    "triggers": {"enabled": True, "codes": CODES},
    "timeline": [
        {
            "type": "detection-response-task-start",
            "min_iti_ms": 500,
            "max_iti_ms": 800,
            "stimulus_duration_ms": 250,
            "response_key": "space",
        },
        flanker_block(6),
        {"type": "detection-response-task-stop"},
        flanker_block(3),
    ],
}


class PortReader:
    """Reads everything that arrives on one end of the pty pair, in a thread."""

    def __init__(self, device: str) -> None:
        import serial

        self.port = serial.Serial(device, 115200, timeout=0.1)
        self.port.reset_input_buffer()
        self.data = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.data += self.port.read(256)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.port.close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("lslhttp")
    a, b = tmp / "ttyA", tmp / "ttyB"
    socat = subprocess.Popen(
        [str(SOCAT), f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stderr=subprocess.DEVNULL,
    )
    live = start_live_server(tmp / "data")
    try:
        deadline = time.monotonic() + 20
        while not (a.exists() and b.exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
        publish(live.url, SLUG, CONFIG)
        settings = machine.HardwareSettings(lsl_enabled=True, trigger_port=str(a), pulse_ms=1)
        host = registry.attach(live.ctx, MarkerHost(live.ctx, settings))
        # As in a lab: the stream is open and the recorder connected before the participant.
        opened, problems = host.open_study_streams()
        assert problems == [] and len(opened) == 1
        inlet = MarkerInlet.open(opened[0].source_id)
        reader = PortReader(str(b))
        yield {"live": live, "host": host, "inlet": inlet, "reader": reader, "outlet": opened[0]}
        reader.close()
        inlet.close()
    finally:
        registry.detach(live.ctx)
        stop_live_server(live)
        socat.terminate()
        socat.wait(10)


def run_in_chromium(live: LiveServer) -> dict[str, Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-timer-throttling"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live.url}/interpreter/?study={SLUG}&participant=EEG-01")
            page.wait_for_function(f"{STATE} === 'running'", timeout=60000)
            deadline = time.monotonic() + 120
            keys = ["f", "Space", "j", "Space"]
            i = 0
            while page.evaluate(STATE) != "saved" and time.monotonic() < deadline:
                page.keyboard.press(keys[i % len(keys)])
                i += 1
                page.wait_for_timeout(130)
            assert page.evaluate(STATE) == "saved", page.evaluate("document.body.innerText")
            assert errors == []
            return page.evaluate(
                "({run_session_id: window.cogflowRun.start.run_session_id,"
                " lsl: window.cogflowRun.lsl, transport: window.cogflowRun.markers.transport.kind})"
            )
        finally:
            browser.close()


def test_every_marker_and_code_of_a_run_over_http(setup: dict[str, Any], tmp_path: Path) -> None:
    live: LiveServer = setup["live"]
    page = run_in_chromium(live)
    assert page["transport"] == "http"
    info = page["lsl"]
    n = info["markers_sent"]
    markers = setup["inlet"].pull(n, timeout=30)
    setup["inlet"].drain(quiet=1.0)
    assert len(markers) == n == info["markers_pushed"] == info["markers_acknowledged"]

    # In order, nothing lost: seq 0..n-1 as pushed, run_start first, run_end last.
    assert [m["seq"] for m, _ in markers] == list(range(n))
    assert markers[0][0]["event"] == "run_start" and markers[-1][0]["event"] == "run_end"
    assert markers[0][0]["run_session_id"] == page["run_session_id"]

    researcher = enrolled_researcher(live)
    stored = researcher.decrypt(page["run_session_id"])
    rows = stored["trials"]
    payload = stored["result_payload"]
    lsl = payload["lsl"]
    assert (lsl["stream_name"], lsl["source_id"]) == (f"CogFlow-{SLUG}", setup["outlet"].source_id)
    assert lsl["transport"] == "http" and lsl["markers_pushed"] == n
    clock = lsl["clock"]
    assert clock["offset_s"] is not None and 0 < clock["uncertainty_s"] < 0.05
    assert len(clock["syncs"]) >= 2  # run start and run end at least
    assert lsl["run_start_lsl_time"] == pytest.approx(markers[0][1], abs=1e-9)

    by_event: dict[str, list[tuple[dict[str, Any], float]]] = {}
    for m, ts in markers:
        by_event.setdefault(m["event"], []).append((m, ts))

    def find(event: str, **match: Any) -> tuple[dict[str, Any], float]:
        hits = [
            (m, ts)
            for m, ts in by_event.get(event, [])
            if all(
                abs(m.get(k, 1e9) - v) < 0.002 if isinstance(v, float) else m.get(k) == v
                for k, v in match.items()
            )
        ]
        assert len(hits) == 1, (event, match, hits)
        return hits[0]

    flanker = [r for r in rows if r["component_type"] == "flanker-trial"]
    drt = [r for r in rows if r["component_type"] == "drt-stimulus"]
    assert len(flanker) == 9 and drt, [r["component_type"] for r in rows]
    onsets: list[tuple[float, float]] = []  # (row onset ms, marker LSL time)
    for r in flanker:
        m, ts = find("onset", t_ms=float(r["stimulus_onset_ms"]), component_type="flanker-trial")
        assert m["code"] == CODES["flanker-trial"]
        assert r["lsl_onset_time"] == pytest.approx(ts, abs=1e-9)
        onsets.append((r["stimulus_onset_ms"], ts))
        find("offset", t_ms=float(r["stimulus_offset_ms"]), component_type="flanker-trial")
        if r["rt_ms"] is not None:
            resp, _ = find("response", t_ms=float(r["stimulus_onset_ms"] + r["rt_ms"]))
            assert resp["response"] == r["response"] and resp["code"] == CODES["response"]
    for r in drt:
        m, ts = find("drt_onset", drt_trial_number=r["drt_trial_number"])
        assert m["t_ms"] == pytest.approx(r["stimulus_onset_ms"], abs=0.002)
        assert m["code"] == CODES["drt-stimulus"]
        assert r["lsl_onset_time"] == pytest.approx(ts, abs=1e-9)
        onsets.append((r["stimulus_onset_ms"], ts))
        if r["stimulus_offset_ms"] is not None:
            find("drt_offset", drt_trial_number=r["drt_trial_number"])
        if r["rt_ms"] is not None:
            # Every press while the stimulus's window is open is marked; the row keeps the first.
            presses = [
                m
                for m, _ in by_event["drt_response"]
                if m["drt_trial_number"] == r["drt_trial_number"]
            ]
            assert len(presses) == r["drt_response_count"]
            assert presses[0]["rt_ms"] == pytest.approx(r["rt_ms"], abs=0.002)
    assert any(r["rt_ms"] is not None for r in flanker), "some flanker trials were answered"

    # LSL timestamps keep the rows' onset differences (the issue: within 2 ms).
    onsets.sort()
    first_ms, first_ts = onsets[0]
    for onset_ms, ts in onsets:
        assert abs((ts - first_ts) - (onset_ms - first_ms) / 1000) < 0.002

    # Markers for the trials after the DRT stopped name their rows' trial_index exactly.
    for r in flanker[-3:]:
        m, _ = find("onset", t_ms=float(r["stimulus_onset_ms"]), component_type="flanker-trial")
        assert m["trial_index"] == r["trial_index"]

    events = [m["event"] for m, _ in markers]
    assert events.count("block_start") == 2 and events.count("block_end") == 2
    assert events.index("drt_start") < events.index("drt_onset") < events.index("drt_stop")
    assert events.index("block_end") < events.index("drt_stop")

    # Every code went out on the port, in order, each followed by the 0 that ends its pulse.
    codes = [m["code"] for m, _ in markers if "code" in m]
    deadline = time.monotonic() + 10
    while len(setup["reader"].data) < 2 * len(codes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(setup["reader"].data) == [x for c in codes for x in (c, 0)]
    trig = lsl["triggers"]
    assert (trig["sent"], trig["failed"], trig["pending"]) == (len(codes), 0, 0)

    # The export has the column, per row, as stored, and says what it is.
    key = users.unlock_with_password(live.ctx, ADMIN_USER, ADMIN_PASSWORD)
    export_study(
        live.ctx,
        key,
        ExportOptions(SLUG, "zip", tmp_path / "eeg.zip"),
        actor=ADMIN_USER,
        client="t",
    )
    with zipfile.ZipFile(tmp_path / "eeg.zip") as zf:
        table = list(csv.DictReader(io.StringIO(zf.read(f"{SLUG}_trials.csv").decode())))
        codebook = list(csv.DictReader(io.StringIO(zf.read("codebook.csv").decode())))
    exported = {int(r["trial_index"]): r["lsl_onset_time"] for r in table}
    for r in rows:
        want = r.get("lsl_onset_time")
        assert exported[r["trial_index"]] == ("" if want is None else repr(want))
    entry = next(c for c in codebook if c["name"] == "lsl_onset_time" and c["table"] == "trials")
    assert entry["units"] == "s" and "LSL clock" in entry["meaning"]
