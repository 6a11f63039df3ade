"""A wall clock set back mid-run, and a page frozen mid-run, in a real browser engine (Chromium
via Playwright): the Interpreter records both in `result_payload.clock_events`, marks the rows
whose stored wall-clock times came after the jump, and keeps trial timing on its monotonic clock.

The jump is faked by an init script that shifts what `Date` reports (performance.now() is left
alone, as NTP or a hand-set clock would); the freeze is real: the page's JavaScript is stopped
for 7 s through the DevTools protocol (Debugger.pause), so no timer of the page runs while its
monotonic clock moves on, which is what a page sees of a sleep on Windows or of a frozen tab.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS
from fault_helpers import instructions_study

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium not installed (apt-get install chromium)"
    ),
]

HOUR_MS = 3_600_000

# Date as the page sees it, shifted by window.__shiftWallClock(ms); performance.now() untouched.
SHIFTABLE_DATE = """(() => {
  const RealDate = Date;
  let shift = 0;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + shift); else super(...args);
    }
    static now() { return RealDate.now() + shift; }
  }
  window.Date = ShiftedDate;
  window.__shiftWallClock = (ms) => { shift += ms; };
})();"""

STATE = "document.getElementById('cogflow-root').dataset.cogflowState"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _answer_screen(page: Any, index: int) -> None:
    page.wait_for_function(
        f"window.cogflowRun && window.cogflowRun.rows.length === {index}"
        " && !!window.cogflowRun.current && !!document.querySelector('.cf-screen')",
        timeout=60000,
    )
    page.keyboard.press("f")


def test_a_clock_set_back_and_a_frozen_page_are_recorded(browser: Any, live_server: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(SHIFTABLE_DATE)
    page.goto(f"{live_server.url}/interpreter/README.md")
    page.evaluate(
        "c => sessionStorage.setItem('cogflow.preview.config', JSON.stringify(c))",
        instructions_study(3),
    )
    page.goto(f"{live_server.url}/interpreter/?preview=1")

    _answer_screen(page, 0)  # row 0: before anything happened
    page.wait_for_function("window.cogflowRun.rows.length === 1 && !!window.cogflowRun.current")
    page.evaluate(f"window.__shiftWallClock(-{HOUR_MS})")  # the clock is set back an hour
    # The page's once-a-second check sees it.
    page.wait_for_function("window.cogflowRun.clockWatch.events.length === 1", timeout=30000)

    # The page is frozen for 7 s (no timer runs), then goes on.
    cdp = context.new_cdp_session(page)
    cdp.send("Debugger.enable")
    cdp.send("Debugger.pause")
    time.sleep(7)
    cdp.send("Debugger.resume")
    cdp.send("Debugger.disable")
    page.wait_for_function("window.cogflowRun.clockWatch.events.length === 2", timeout=30000)

    _answer_screen(page, 1)
    _answer_screen(page, 2)
    page.wait_for_function(f"{STATE} === 'preview-done'", timeout=60000)
    result = page.evaluate("window.cogflowResult")
    context.close()
    assert not errors, errors

    payload = result["result_payload"]
    jump, suspended = payload["clock_events"]
    assert jump["type"] == "wall_clock_jump"
    assert abs(jump["wall_delta_ms"] + HOUR_MS) < 1000, jump
    assert abs(jump["wall_clock_offset_ms"] + HOUR_MS) < 1000, jump
    assert jump["trial_index"] == 1 and jump["at_ms"] > 0
    assert jump["source"] == "timer" and jump["page_hidden"] is False
    assert suspended["type"] == "suspended"
    assert suspended["mono_gap_ms"] > 5000, suspended
    assert abs(suspended["wall_delta_ms"]) < 1000, suspended  # no jump in the freeze itself
    assert suspended["trial_index"] == 1 and suspended["at_ms"] > jump["at_ms"]
    assert abs(payload["wall_clock_offset_ms"] + HOUR_MS) < 1000, payload

    rows = payload["trials"]
    assert [r["component_type"] for r in rows] == ["instructions"] * 3
    # Row 0 was stored before the jump: unmarked. Rows 1 and 2 after it: marked with the shift.
    assert "wall_clock_offset_ms" not in rows[0]
    for row in rows[1:]:
        assert abs(row["wall_clock_offset_ms"] + HOUR_MS) < 1000, row
    # Trial timing stayed on the monotonic clock: the screen answered after the freeze lasted
    # the freeze (seconds), not an hour less; trials still follow each other.
    assert rows[1]["rt_ms"] > 5000, rows[1]
    assert rows[1]["trial_start_ms"] >= rows[0]["trial_end_ms"] - 50
    assert rows[2]["trial_start_ms"] >= rows[1]["trial_end_ms"] - 50
    # The stored wall-clock times: started before the jump, finished an hour earlier by the
    # (wrong) clock, which the offset explains.
    assert payload["started_at"] > payload["finished_at"]
