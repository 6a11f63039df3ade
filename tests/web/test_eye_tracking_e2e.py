"""Eye tracking in a real browser (Chromium via Playwright) against the real embedded server.

With Chromium's fake camera (--use-fake-device-for-media-stream, --use-fake-ui-for-media-stream)
the WebGazer study (sample_eye_tracking_webgazer.json) runs as published: the camera starts on
the participant's key press, the nine calibration dots are confirmed, the RDM trials answered,
and gaze samples at the configured 33 ms are stored with the run, sealed like every other row;
the fake camera shows a face, so WebGazer's vendored face models produce real estimates.
Without a camera the same study is refused before the first trial, and its run is closed as
failed with the reason. Nothing is requested from outside the app.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import COMPAT_CONFIGS, REPO_ROOT, enrolled_researcher, publish

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")

from test_interpreter_e2e import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not installed"),
]
# The fake camera shows a still face (NASA portrait of Eileen Collins, public domain, from
# scikit-image's sample data), so WebGazer finds a face and eyes with its vendored models.
FACE = REPO_ROOT / "tests" / "fixtures" / "eye_tracking" / "face-astronaut-320x240.y4m"
FAKE_CAMERA = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    f"--use-file-for-fake-video-capture={FACE}",
]
# WebGazer's face models run on WebGL; without a GPU, Chromium's software WebGL (SwiftShader).
SOFTWARE_GL = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
CONFIG = json.loads((COMPAT_CONFIGS / "sample_eye_tracking_webgazer.json").read_text("utf-8"))


async def run_study(url: str, slug: str, camera: bool) -> dict[str, Any]:
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[a for a in CHROMIUM_ARGS if a != "--disable-gpu"]
            + SOFTWARE_GL
            + (FAKE_CAMERA if camera else []),
        )
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        foreign: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(url) else foreign.append(r.url))
        await page.goto(f"{url}/interpreter/?study={slug}&participant=gaze")
        seen: set[tuple[int, str]] = set()
        for _ in range(3000):
            probe = await page.evaluate(
                """() => ({state: document.getElementById('cogflow-root').dataset.cogflowState,
                  rows: window.cogflowRun ? window.cogflowRun.rows.length : 0,
                  type: window.cogflowRun && window.cogflowRun.current
                    ? window.cogflowRun.current.spec.component_type : null,
                  phase: (document.querySelector('canvas[data-role="rdm"]') || {dataset: {}})
                    .dataset.phase || null,
                  dot: !!document.querySelector('[data-role="calibration-dot"]')})"""
            )
            if probe["state"] == "unsupported":  # refused (before a run is started)
                break
            if probe["state"] in ("saved", "error", "invalid-config"):
                break
            mark = (probe["rows"], probe["type"] or "")
            if probe["type"] and mark not in seen:
                key = None
                calibrating = probe["type"] == "eye-tracking-calibration" and probe["dot"]
                screens = ("instructions", "html-keyboard-response", "eye-tracking-start")
                if probe["type"] in screens or calibrating:
                    key = "Space"
                elif probe["type"] == "rdm-trial" and probe["phase"] == "stimulus":
                    key = "f"
                if key:
                    await asyncio.sleep(0.15)
                    await page.keyboard.press(key)
                    seen.add(mark)
            await asyncio.sleep(0.03)
        info = await page.evaluate(
            """() => ({state: document.getElementById('cogflow-root').dataset.cogflowState,
              text: document.body.innerText, refusal: window.cogflowRefusal || null,
              run: window.cogflowRun ? window.cogflowRun.start.run_session_id : null})"""
        )
        info["foreign"] = foreign
        await browser.close()
    return info


@pytest.fixture(scope="module")
def researcher_module(live_server: Any) -> Any:
    return enrolled_researcher(live_server)


def test_webgazer_study_records_calibration_and_samples(
    live_server: Any, researcher_module: Any
) -> None:
    slug = publish(live_server.url, "gaze-camera", CONFIG)["study_slug"]
    info = asyncio.run(run_study(live_server.url, slug, camera=True))
    assert info["state"] == "saved", info["text"]
    assert info["foreign"] == [], "nothing is requested from outside the app"
    run_id = researcher_module.get(
        f"{live_server.url}/api/v1/studies/{slug}/runs", timeout=30
    ).json()["runs"][0]["run_session_id"]
    stored = researcher_module.decrypt(run_id)
    trials = stored["trials"]
    types = [t["component_type"] for t in trials]
    assert types[0] == "eye-tracking-start" and types[-1] == "eye-tracking-stop"
    start = trials[0]
    assert start["eye_tracking_started"] is True and start["gaze_sample_interval_ms"] == 33
    dots = [t for t in trials if t["component_type"] == "eye-tracking-calibration"]
    assert [d["calibration_index"] for d in dots] == list(range(9))
    assert all(d["calibration_recorded"] is True and d["rt_ms"] > 0 for d in dots)
    assert {(d["x_norm"], d["y_norm"]) for d in dots} == {
        (x, y) for x in (0.12, 0.5, 0.88) for y in (0.12, 0.5, 0.88)
    }
    chunks = [t for t in trials if t["component_type"] == "eye-tracking-samples"]
    samples = [s for c in chunks for s in c["gaze_samples"]]
    assert len(chunks) >= 2 and all(c["gaze_sample_interval_ms"] == 33 for c in chunks)
    assert [s["sample_index"] for s in samples] == list(range(len(samples)))
    times = [s["t_ms"] for s in samples]
    # One sample per 33 ms slot at most (a late frame takes its slot late, never twice).
    slots = [int((t - times[0] + 0.01) // 33) for t in times]
    assert all(b > a for a, b in itertools.pairwise(slots)), "never two samples in one interval"
    # Without a GPU, WebGazer's face models stall the page for whole seconds: a stalled interval
    # has no sample (its gap shows in t_ms), never a made-up one.
    assert len(samples) >= 10
    assert all(
        set(s) == {"sample_index", "t_ms", "x", "y", "valid", "estimate_t_ms"} for s in samples
    )
    for s in samples:
        assert (s["x"] is None) is (not s["valid"])
    valid = [s for s in samples if s["valid"]]
    assert valid, "WebGazer estimated gaze from the camera's face"
    assert all(0 <= s["x"] <= 1280 and 0 <= s["y"] <= 800 for s in valid)
    assert all(s["estimate_t_ms"] >= s["t_ms"] - 33 for s in valid), "estimates are current"
    stop = trials[-1]
    assert stop["gaze_samples_total"] == len(samples)
    # The face models came from /vendor/webgazer-models/: nothing refused, nothing failed.
    assert stop["blocked_requests"] == 0 and stop["tracker_errors"] is None, stop
    # Samples are in run time, the clock of every onset: they cover the study's trials.
    rdm = [t for t in trials if t["component_type"] == "rdm-trial"]
    assert times[0] <= rdm[0]["stimulus_onset_ms"] and rdm[-1]["stimulus_onset_ms"] <= times[-1]


def test_no_camera_refuses_before_the_run(live_server: Any, researcher_module: Any) -> None:
    slug = publish(live_server.url, "gaze-no-camera", CONFIG)["study_slug"]
    info = asyncio.run(run_study(live_server.url, slug, camera=False))
    assert info["state"] == "unsupported"
    assert "no camera was found" in info["text"]
    assert info["refusal"]["reason"] == "no_camera"
    # The page read the config before runs/start, so no run exists for it at all.
    assert "run_ended" not in info["refusal"] and info["run"] is None
    runs = researcher_module.get(
        f"{live_server.url}/api/v1/studies/{slug}/runs", timeout=30
    ).json()["runs"]
    assert runs == []


def test_continuous_rdm_study_with_eye_tracking_runs_with_gaze(
    live_server: Any, researcher_module: Any
) -> None:
    """KAMI136: continuous RDM dot groups with data_collection eye-tracking on."""
    config = json.loads((COMPAT_CONFIGS / "KAMI136-rdm-01.json").read_text("utf-8"))
    slug = publish(live_server.url, "gaze-kami136", config)["study_slug"]
    info = asyncio.run(run_study(live_server.url, slug, camera=True))
    assert info["state"] == "saved", info["text"]
    assert info["foreign"] == []
    run_id = researcher_module.get(
        f"{live_server.url}/api/v1/studies/{slug}/runs", timeout=30
    ).json()["runs"][0]["run_session_id"]
    trials = researcher_module.decrypt(run_id)["trials"]
    types = [t["component_type"] for t in trials]
    assert types[0] == "eye-tracking-start" and types[-1] == "eye-tracking-stop"
    assert "rdm-continuous" in types
    chunks = [t for t in trials if t["component_type"] == "eye-tracking-samples"]
    samples = [s for c in chunks for s in c["gaze_samples"]]
    assert samples, "gaze was sampled during the continuous RDM"
