"""`cogflow-desktop serve --lsl` as a real process: it opens the streams of the studies that ask
for markers, names them on start, answers the Interpreter's marker route, and a recorder in
another process (this test, with a real LSL inlet) receives what the page sends. A trigger
port that cannot open stops the start with one sentence. (Without --lsl the route answers 404
with how to turn it on: tests/hardware/test_markers_route.py.)"""

from __future__ import annotations

import queue
import uuid
from pathlib import Path

import pytest
import requests
from cli_helpers import create_admin, run_cli, start_serve
from lsl_helpers import LSL_STUDY_CONFIG, MarkerInlet

from cogflow_desktop.services import studies
from cogflow_desktop.services.context import open_context
from cogflow_desktop.settings import Settings

SLUG = "serve-lsl"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("servelsl") / "data"
    create_admin(folder)
    # Published before the server starts: --lsl opens the streams of what is published.
    ctx = open_context(Settings.from_env(folder))
    try:
        config = {**LSL_STUDY_CONFIG, "triggers": {}, "timeline": [{"type": "instructions"}]}
        studies.publish(
            ctx, studies.PublishRequest(SLUG, SLUG, "v1", config), actor="test", client=None
        )
    finally:
        ctx.close()
    return folder


def next_line(lines: queue.Queue[str], timeout: float = 30) -> str:
    return lines.get(timeout=timeout).strip()


def test_serve_lsl_streams_markers_to_another_process(data_dir: Path) -> None:
    server = start_serve(data_dir, "--lsl")
    try:
        line = next_line(server.lines)
        assert (
            line.startswith("LSL markers on (liblsl 1.")
            and f"CogFlow-{SLUG} (source id cogflow-" in line
        )
        source = line.split("(source id ")[1].split(")")[0]
        inlet = MarkerInlet.open(source)
        url = f"{server.url}/api/hardware/markers"
        run = requests.post(
            f"{server.url}/api/v1/runs/start", json={"study_slug": SLUG}, timeout=30
        ).json()["run_session_id"]
        hello = requests.post(url, json={"op": "hello", "run_session_id": run}, timeout=30).json()
        assert hello["enabled"] and hello["source_id"] == source and hello["triggers"] is False
        lsl_s = requests.post(url, json={"op": "clock"}, timeout=30).json()["lsl_s"]
        burst = {"op": "clock", "run_session_id": run, "samples": [
            {"page_sent_ms": 100.0, "page_received_ms": 101.0, "lsl_s": lsl_s}]}  # fmt: skip
        offset = requests.post(url, json=burst, timeout=30).json()["estimate"]["offset_s"]
        markers = [
            {"seq": i, "event": "onset", "page_ms": 200.0 + 16.7 * i,
             "lsl_time": (200.0 + 16.7 * i) / 1000 + offset, "data": {"trial_index": i}}
            for i in range(3)
        ]  # fmt: skip
        sent = requests.post(
            url, json={"op": "markers", "run_session_id": run, "markers": markers}, timeout=30
        )
        assert sent.json() == {"pushed": 3, "total": 3}
        got = inlet.pull(3)
        assert [m["trial_index"] for m, _ in got] == [0, 1, 2]
        assert [ts for _, ts in got] == pytest.approx([m["lsl_time"] for m in markers], abs=1e-9)
        # The same guards as every other write: a foreign page cannot push markers.
        foreign = requests.post(
            url,
            json={"op": "markers", "run_session_id": run, "markers": [{**markers[0], "seq": 9}]},
            headers={"Origin": "http://evil.example"},
            timeout=30,
        )
        assert foreign.status_code == 403
        assert inlet.drain(quiet=0.5) == got
        bad = requests.post(url, json={"op": "markers", "run_session_id": "nope"}, timeout=30)
        assert bad.status_code == 400 and "run_session_id" in bad.json()
        unknown = requests.post(
            url, json={"op": "hello", "run_session_id": str(uuid.uuid4())}, timeout=30
        )
        assert (
            unknown.status_code == 404
            and unknown.json()["error"] == "This run is unknown to this computer."
        )
        inlet.close()
    finally:
        assert server.stop() == 0, server.stderr()


def test_a_trigger_port_that_cannot_open_stops_the_start(data_dir: Path) -> None:
    missing = data_dir / "no-such-tty"
    done = run_cli(
        "serve", "--port", "0", "--trigger-port", str(missing), "--data-dir", str(data_dir)
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(
        f"cogflow-desktop: The trigger port {missing} could not be opened"
    )
