"""Timing in a real browser engine (Chromium via Playwright) against the real embedded server:
onsets and offsets are the timestamps of the frames that first drew (and first lacked) the
stimulus, rows carry the delivered timing fields, keys are recorded with their layout-
independent code, a run pauses and resumes, an unusual refresh rate is warned about, and the
timing self-test page reports its flashes.

A probe injected into the page samples what each frame really draws, as bench/bench_timing.py
does: a 1 px element resized in every animation frame, whose ResizeObserver callback runs after
all animation-frame callbacks and just before paint, so it sees the frame's final DOM. Nothing
here asserts how long anything took: only which frame things happened on.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium not installed (apt-get install chromium)"
    ),
]

# Per frame: its rAF timestamp and whether a flanker stimulus was visible in its final DOM.
PROBE = """(() => {
  const log = [];
  window.__frames = log;
  let ts = null;
  const start = () => {
    const el = document.createElement('div');
    el.style.cssText = 'position:fixed;right:0;top:0;width:1px;height:1px;opacity:0';
    document.documentElement.appendChild(el);
    let wide = false;
    new ResizeObserver(() => {
      if (ts === null) return;
      const f = document.querySelector('.cf-flanker');
      log.push({ ts, flanker: !!(f && !f.classList.contains('cf-hidden')) });
    }).observe(el);
    const tick = (t) => {
      ts = t;
      wide = !wide;
      el.style.width = wide ? '2px' : '1px';
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
})();"""

# Every other frame only: a 30 Hz display for the page.
HALF_RATE = """(() => {
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf(() => raf(cb));
})();"""

STATE = "document.getElementById('cogflow-root').dataset.cogflowState"


def flanker_block(n: int, **params: Any) -> dict[str, Any]:
    values = {
        "stimulus_duration_ms": 150,
        "trial_duration_ms": 300,
        "iti_ms": 150,
        "target_direction": ["left"],
        "congruency": ["congruent"],
        "left_key": "f",
        "right_key": "j",
        **params,
    }
    return {
        "type": "block",
        "component_type": "flanker-trial",
        "length": n,
        "parameter_values": values,
    }


def preview_config(*items: dict[str, Any]) -> dict[str, Any]:
    return {"experiment_type": "trial-based", "task_type": "flanker", "timeline": list(items)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_preview(browser: Any, url: str, config: dict[str, Any], *scripts: str) -> Any:
    # bypass_csp: wait_for_function predicates are evaluated strings, which the Interpreter's
    # CSP (script-src 'self') would refuse; the page's own scripts run the same either way.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    for s in scripts:
        page.add_init_script(s)
    page.goto(f"{url}/interpreter/README.md")
    page.evaluate(
        "c => sessionStorage.setItem('cogflow.preview.config', JSON.stringify(c))", config
    )
    page.goto(f"{url}/interpreter/?preview=1")
    return page


def wait_for_type(page: Any, component_type: str, extra: str = "true") -> None:
    page.wait_for_function(
        "([t, extra]) => { const r = window.cogflowRun; return !!(r && r.current"
        " && r.current.spec.component_type === t) && eval(extra); }",
        arg=[component_type, extra],
        timeout=60000,
    )


def finished(page: Any) -> dict[str, Any]:
    page.wait_for_function(f"{STATE} === 'preview-done'", timeout=60000)
    return page.evaluate(
        "({rows: window.cogflowRun.rows, t0: window.cogflowRun.t0,"
        " frameMs: window.cogflowRun.timer.frameMs, frames: window.__frames || [],"
        " result: window.cogflowResult})"
    )


def test_rows_record_the_frames_that_drew_the_stimulus(browser: Any, live_server: Any) -> None:
    config = preview_config(
        flanker_block(5),
        {"type": "instructions", "stimulus": "Done", "choices": ["space"]},
    )
    page = open_preview(browser, live_server.url, config, PROBE)
    wait_for_type(page, "instructions")
    # A full-screen change makes the run measure the refresh rate again.
    page.evaluate("document.dispatchEvent(new Event('fullscreenchange'))")
    page.wait_for_function("window.cogflowRun.remeasurements.length === 1", timeout=60000)
    page.keyboard.press("Space")
    out = finished(page)
    assert not page.errors, page.errors
    page.context.close()

    rows = [r for r in out["rows"] if r["component_type"] == "flanker-trial"]
    assert len(rows) == 5
    frames, t0, frame_ms = out["frames"], out["t0"], out["frameMs"]
    drawn = [i for i, f in enumerate(frames) if f["flanker"]]
    # Runs of consecutive frames with the stimulus: (first drawn frame, first frame without it).
    episodes: list[tuple[float, float]] = []
    for i in drawn:
        if i == 0 or not frames[i - 1]["flanker"]:
            end = next(j for j in range(i, len(frames)) if not frames[j]["flanker"])
            episodes.append((frames[i]["ts"], frames[end]["ts"]))
    assert len(episodes) == 5, episodes
    for row, (first_drawn, first_hidden) in zip(rows, episodes, strict=True):
        assert abs(row["stimulus_onset_ms"] + t0 - first_drawn) < 0.01, (row, first_drawn)
        assert abs(row["stimulus_offset_ms"] + t0 - first_hidden) < 0.01, (row, first_hidden)
        shown = row["stimulus_offset_ms"] - row["stimulus_onset_ms"]
        assert row["stimulus_frames"] == round(shown / frame_ms)
        assert row["stimulus_duration_ms"] == 150
        assert row["iti_ms"] == 150
        assert row["iti_actual_ms"] >= 150 - frame_ms / 2
        assert isinstance(row["dropped_frames"], int) and row["dropped_frames"] >= 0
        assert row["page_hidden"] is False
        assert isinstance(row["window_blurred"], bool)
        assert row["paused"] is False
        assert row["response"] is None and row["response_code"] is None
    for prev, nxt in itertools.pairwise(rows):
        # The next onset is drawn on the very frame the ITI ended on (not the frame after it).
        assert nxt["stimulus_onset_ms"] == prev["trial_end_ms"], (prev, nxt)
    timing = out["result"]["result_payload"]["timing"]
    assert timing["frame_ms_se"] is not None and len(timing["refresh_hz_ci95"]) == 2
    assert timing["warnings"] == [] or all(isinstance(w, str) for w in timing["warnings"])
    (again,) = timing["remeasurements"]
    assert again["reason"] == "fullscreenchange" and again["refresh_hz"] > 0


def test_keys_record_response_code_and_match_by_position(browser: Any, live_server: Any) -> None:
    config = preview_config(
        {"type": "html-keyboard-response", "stimulus": "any key", "choices": "ALL_KEYS"},
        {"type": "html-keyboard-response", "stimulus": "f or j", "choices": ["f", "j"]},
        {"type": "html-keyboard-response", "stimulus": "1 or 2", "choices": ["1", "2"]},
    )
    page = open_preview(browser, live_server.url, config)
    presses: list[dict[str, str] | None] = [
        None,  # a real key press: X
        {"key": "о", "code": "KeyJ"},  # Russian layout: the J key types 'о'
        {"key": "&", "code": "Digit1"},  # French AZERTY: the 1 key types '&' without Shift
    ]
    for index, event in enumerate(presses):
        page.wait_for_function(
            f"window.cogflowRun && window.cogflowRun.rows.length === {index}"
            " && !!window.cogflowRun.current && !!document.querySelector('.cf-screen')"
        )
        if event is None:
            page.keyboard.press("KeyX")
        else:
            page.evaluate(
                "e => document.dispatchEvent(new KeyboardEvent('keydown', {...e, bubbles: true}))",
                event,
            )
    out = finished(page)
    page.context.close()
    rows = out["rows"]
    assert [(r["response"], r["response_code"]) for r in rows] == [
        ("x", "KeyX"),
        ("j", "KeyJ"),
        ("1", "Digit1"),
    ]


def test_pause_stops_the_trial_and_the_drt_and_resume_restarts_it(
    browser: Any, live_server: Any
) -> None:
    config = preview_config(
        {"type": "instructions", "stimulus": "Press space", "choices": ["space"]},
        {
            "type": "detection-response-task-start",
            "response_key": "k",
            "min_iti_ms": 300,
            "max_iti_ms": 400,
            "stimulus_duration_ms": 200,
            "max_rt_ms": 250,
        },
        flanker_block(1, stimulus_duration_ms=300, trial_duration_ms=1200, iti_ms=100),
        {"type": "detection-response-task-stop"},
        {"type": "instructions", "stimulus": "Press space again", "choices": ["space"]},
        {"type": "instructions", "stimulus": "Last one", "choices": ["space"]},
    )
    page = open_preview(browser, live_server.url, config)
    assert page.evaluate("window.cogflowResume()") is False, "nothing to resume yet"
    wait_for_type(page, "instructions")
    # An untimed screen continues after a pause.
    assert page.evaluate("window.cogflowPause()") is True
    assert page.evaluate(STATE) == "paused"
    page.keyboard.press("Space")  # ignored while paused
    time.sleep(0.3)
    assert page.evaluate("window.cogflowRun.rows.length") == 0
    assert page.evaluate("window.cogflowResume()") is True
    assert page.evaluate(STATE) == "running"
    page.keyboard.press("Space")

    wait_for_type(
        page,
        "flanker-trial",
        "!!document.querySelector('.cf-flanker:not(.cf-hidden)')",
    )
    assert page.evaluate("window.cogflowPause()") is True
    assert page.evaluate("window.cogflowPause()") is False, "already paused"
    assert page.is_visible("[data-role=paused]")
    before = page.evaluate("window.cogflowRun.rows.length")
    # Longer than the trial's whole 1.2 s window and several DRT intervals.
    time.sleep(2.0)
    page.keyboard.press("f")
    assert page.evaluate("window.cogflowRun.rows.length") == before, "nothing ended while paused"
    assert page.evaluate(STATE) == "paused"
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('[data-role=drt-stimulus]')).display"
        )
        == "none"
    )
    assert page.evaluate("window.cogflowResume()") is True
    assert not page.is_visible("[data-role=paused]")
    wait_for_type(page, "instructions", "window.cogflowRun.rows.length > 2")
    page.keyboard.press("Space")
    # Abort while paused: the run ends as failed with the pause recorded.
    wait_for_type(page, "instructions", "document.body.innerText.includes('Last one')")
    assert page.evaluate("window.cogflowPause()") is True
    assert page.evaluate("window.cogflowAbort()") is True
    out = finished(page)
    assert not page.errors, page.errors
    page.context.close()

    rows = out["rows"]
    payload = out["result"]["result_payload"]
    pauses = payload["pauses"]
    assert [p["action"] for p in pauses] == ["continued", "restarted", "aborted"]
    first = rows[0]
    assert first["component_type"] == "instructions" and first["paused"] is True
    assert first["pause_restarts"] == 0 and first["response"] == "space"
    (flanker,) = [r for r in rows if r["component_type"] == "flanker-trial"]
    assert flanker["paused"] is True and flanker["pause_restarts"] == 1
    assert flanker["pause_ms"] >= 1900
    assert flanker["ended_reason"] == "timeout" and flanker["response"] is None
    assert pauses[1]["trial_index"] == flanker["trial_index"]
    assert flanker["stimulus_onset_ms"] > pauses[1]["resumed_at_ms"], "shown again after resume"
    drt = [r for r in rows if r["component_type"] == "drt-stimulus"]
    paused_at, resumed_at = pauses[1]["paused_at_ms"], pauses[1]["resumed_at_ms"]
    assert not [r for r in drt if paused_at < r["stimulus_onset_ms"] < resumed_at], drt
    assert rows[-1]["ended_reason"] == "aborted" and rows[-1]["paused"] is True
    assert payload["status"] == "failed"
    assert payload["timing"]["pause_count"] == 3


def test_an_unusual_refresh_rate_is_shown_before_the_run_and_recorded(
    browser: Any, live_server: Any
) -> None:
    config = preview_config({"type": "instructions", "stimulus": "Hello", "choices": ["space"]})
    page = open_preview(browser, live_server.url, config, HALF_RATE)
    page.wait_for_selector("[data-role=timing-warning]", timeout=60000)
    text = page.inner_text("#cogflow-root")
    assert "Display timing check" in text and "below 50 Hz" in text
    page.keyboard.press("Enter")
    wait_for_type(page, "instructions")
    page.keyboard.press("Space")
    out = finished(page)
    page.context.close()
    timing = out["result"]["result_payload"]["timing"]
    assert timing["refresh_hz"] < 50
    assert any("below 50 Hz" in w for w in timing["warnings"])


def test_selftest_page_reports_planned_and_delivered_frames(
    browser: Any, live_server: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/interpreter/selftest?frames=2&flashes=6&gap=4&autostart=1")
    page.wait_for_function("document.body.dataset.selftestState === 'done'", timeout=60000)
    result = page.evaluate("window.cogflowSelftest")
    summary = page.inner_text("[data-role=summary]")
    assert page.is_visible("[data-role=photodiode]")
    page.screenshot(path=str(tmp_path / "selftest.png"))
    page.close()
    assert not errors, errors
    flashes = result["flashes"]
    assert len(flashes) == 6
    for f in flashes:
        assert f["planned_frames"] == 2
        assert isinstance(f["delivered_frames"], int) and f["delivered_frames"] >= 1
        assert f["frame_callbacks"] >= 1
    assert result["summary"]["flashes"] == 6
    assert result["summary"]["exact"] == sum(f["delivered_frames"] == 2 for f in flashes)
    assert "of 6 flashes lasted exactly 2 frames" in summary
    assert result["refresh"]["refresh_hz"] > 0
