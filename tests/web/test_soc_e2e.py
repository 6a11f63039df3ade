"""The SOC dashboard in a real browser (Chromium via Playwright) against the real embedded server.

Every SOC compat config runs as published (sessions of 11-30 s, in parallel pages), driven like a
participant: the driver reads what is on screen (pop-ups, log rows, the alert card, the "Reject?"
prompt, the red flash, the e-mail), clicks a window to bring it to the front and presses the keys
a participant would. The stored row's events are then checked against the task rules. One extra
study (tests/fixtures/soc/soc_wcst_endkey.json) covers the WCST-like windows (keys and clicks),
desktop icons and the end key.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import COMPAT_CONFIGS, REPO_ROOT, publish

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")

from test_interpreter_e2e import CHROMIUM, CHROMIUM_ARGS, new_page  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not installed"),
]

SOC_CONFIGS = [
    "FLANKER-soc-dashboard-01",
    "sample_soc_3tasks_sequence",
    "sample_soc_nback_10s",
    "sample_soc_pvt_like_01",
    "sample_soc_sart_10s",
]
WCST = REPO_ROOT / "tests" / "fixtures" / "soc" / "soc_wcst_endkey.json"

# What a participant sees, per window.
PROBE = """() => {
  const root = document.getElementById('cogflow-root');
  const run = window.cogflowRun;
  const cur = run && run.current;
  const wins = [...document.querySelectorAll('.soc-window:not(.soc-hidden)')].map((w) => {
    const r = w.getBoundingClientRect();
    const rows = [...w.querySelectorAll('tbody tr[data-entry-id]')];
    const last = rows[rows.length - 1];
    const alert = w.querySelector('[data-role="alert"]');
    const email = w.querySelector('[data-role="email"]');
    return {
      index: Number(w.dataset.subtaskIndex), kind: w.dataset.kind,
      x: r.left + 40, y: r.top + 60,
      popup: !!w.querySelector('.soc-popup'),
      entry: last ? {id: last.dataset.entryId, dest: last.children[2].textContent} : null,
      alert: alert && alert.dataset.alertId ? {id: alert.dataset.alertId,
        src: alert.querySelector('[data-f="src_ip"]').textContent} : null,
      prompt: !!w.querySelector('.soc-flanker-prompt.soc-show'),
      flash: !!w.querySelector('.soc-flash.soc-show'),
      email: email && email.querySelector('b') ? email.innerText : null,
      cards: [...w.querySelectorAll('.soc-wcst-target')].map((c) => c.innerText),
    };
  });
  return {state: root.dataset.cogflowState, rows: run ? run.rows.length : 0,
          type: cur ? cur.spec.component_type : null, params: cur ? cur.spec.params : null,
          wins};
}"""


class Participant:
    """Answers like an attentive participant; remembers what it already answered."""

    def __init__(self, page: Any, params: dict[str, Any], wcst_escape_after: float | None):
        self.page, self.params = page, params
        self.done: set[str] = set()
        self.history: dict[int, list[str]] = {}
        self.wcst_escape_after = wcst_escape_after
        self.started = time.monotonic()
        self.focused: int | None = None

    def sub(self, index: int) -> dict[str, Any]:
        subs = self.params.get("subtasks") or []
        return subs[index] if index < len(subs) else {}

    async def focus_and_press(self, win: dict[str, Any], key: str) -> None:
        # A click brings the window to the front; only when another window had it, so the
        # press lands while the entry it answers is still shown.
        if self.focused != win["index"]:
            await self.page.mouse.click(win["x"], win["y"])
            self.focused = win["index"]
            await asyncio.sleep(0.05)
        await self.page.keyboard.press(key)

    async def act(self, wins: list[dict[str, Any]]) -> None:
        for w in wins:
            if w["popup"]:
                if ("popup", w["index"]) not in self.done:
                    await asyncio.sleep(0.4)  # read it (and past the 350 ms guard)
                    await self.page.mouse.click(w["x"] + 100, w["y"] + 60)
                    self.focused = None  # the click may have brought another window forward
                    self.done.add(("popup", w["index"]))  # type: ignore[arg-type]
                continue
            s = self.sub(w["index"])
            if w["kind"] == "sart-like" and w["entry"] and w["entry"]["id"] not in self.done:
                self.done.add(w["entry"]["id"])
                go_on = s.get("target_subdomains") or []
                if s.get("go_condition") in ("target", "allow"):
                    go_on = s.get("distractor_subdomains") or []
                if w["entry"]["dest"] in go_on:
                    await self.focus_and_press(w, "Space")
            elif w["kind"] == "nback-like" and w["alert"] and w["alert"]["id"] not in self.done:
                self.done.add(w["alert"]["id"])
                seen = self.history.setdefault(w["index"], [])
                n = int(s.get("n", 2))
                if len(seen) >= n and seen[-n] == w["alert"]["src"]:
                    await self.focus_and_press(w, "Space")
                seen.append(w["alert"]["src"])
            elif (
                w["kind"] == "pvt-like"
                and w["flash"]
                and ("flash", len(self.done)) not in self.done
            ):
                await asyncio.sleep(0.15)
                await self.focus_and_press(w, "Space")
                self.done.add(("flash", len(self.done)))  # type: ignore[arg-type]
                await asyncio.sleep(0.3)
            elif w["kind"] == "flanker-like" and w["prompt"]:
                key = "f" if len(self.done) % 3 else "j"  # a mix of allow and reject
                await asyncio.sleep(0.2)
                await self.page.keyboard.press(key)
                self.done.add(("prompt", time.monotonic()))  # type: ignore[arg-type]
                await asyncio.sleep(0.25)
            elif (
                w["kind"] == "wcst-like"
                and w["email"]
                and (w["index"], w["email"]) not in self.done
            ):
                self.done.add((w["index"], w["email"]))  # type: ignore[arg-type]
                if s.get("response_device") == "mouse":
                    card = await self.page.query_selector(
                        f'.soc-window[data-subtask-index="{w["index"]}"] .soc-wcst-target'
                    )
                    if card:
                        await card.click()
                        self.focused = None
                else:
                    domain = w["email"].split("@", 1)[1].split()[0]
                    pick = next(
                        (i for i, c in enumerate(w["cards"]) if f"Sender: {domain}" in c), 0
                    )
                    await self.focus_and_press(w, str(pick + 1))
        if self.wcst_escape_after and "icon" not in self.done:
            self.done.add("icon")
            await self.page.click(".soc-icon")  # a distractor click on the desktop
        if self.wcst_escape_after and time.monotonic() - self.started > self.wcst_escape_after:
            await self.page.keyboard.press("Escape")
            self.wcst_escape_after = None


async def drive(page: Any, deadline_s: float, escape_after: float | None) -> dict[str, Any]:
    end = time.monotonic() + deadline_s
    participant: Participant | None = None
    pressed_rows: set[int] = set()
    while time.monotonic() < end:
        probe = await page.evaluate(PROBE)
        if probe["state"] in ("saved", "retrying", "error", "invalid-config", "unsupported"):
            return probe
        if (
            probe["type"] in ("html-keyboard-response", "instructions")
            and probe["rows"] not in pressed_rows
        ):
            pressed_rows.add(probe["rows"])
            await asyncio.sleep(0.1)
            await page.keyboard.press("Space")
        elif probe["type"] == "soc-dashboard":
            if participant is None:
                participant = Participant(page, probe["params"], escape_after)
            await participant.act(probe["wins"])
        await asyncio.sleep(0.03)
    raise AssertionError(f"run did not finish within {deadline_s}s: {probe}")


async def run_one(browser: Any, url: str, slug: str, escape_after: float | None) -> dict[str, Any]:
    page = await new_page(browser)
    await page.goto(f"{url}/interpreter/?study={slug}&participant=soc-{slug}")
    shot = None
    final = await drive(page, 150, escape_after)
    if final["state"] == "retrying":
        await page.wait_for_function(
            "document.getElementById('cogflow-root').dataset.cogflowState === 'saved'",
            timeout=60000,
        )
    info = await page.evaluate(
        "() => ({run_session_id: window.cogflowRun.start.run_session_id,"
        " rows: window.cogflowRun.rows,"
        " state: document.getElementById('cogflow-root').dataset.cogflowState})"
    )
    info["errors"], info["shot"] = page.errors, shot
    await page.context.close()
    return info


async def run_all(url: str, jobs: dict[str, tuple[str, float | None]]) -> dict[str, dict[str, Any]]:
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        names = list(jobs)
        results = await asyncio.gather(*(run_one(browser, url, *jobs[n]) for n in names))
        await browser.close()
    return dict(zip(names, results, strict=True))


@pytest.fixture(scope="module")
def soc_runs(live_server: Any, researcher_module: Any) -> dict[str, dict[str, Any]]:
    jobs: dict[str, tuple[str, float | None]] = {}
    for name in SOC_CONFIGS:
        config = json.loads((COMPAT_CONFIGS / f"{name}.json").read_text(encoding="utf-8"))
        jobs[name] = (
            publish(live_server.url, f"soc-{name.lower()}"[:40], config)["study_slug"],
            None,
        )
    wcst = json.loads(WCST.read_text(encoding="utf-8"))
    jobs["wcst"] = (publish(live_server.url, "soc-wcst-endkey", wcst)["study_slug"], 12.0)
    results = asyncio.run(run_all(live_server.url, jobs))
    for info in results.values():
        info["stored"] = researcher_module.decrypt(info["run_session_id"])
    return results


@pytest.fixture(scope="module")
def researcher_module(live_server: Any) -> Any:
    from conftest import enrolled_researcher

    return enrolled_researcher(live_server)


def session_row(run: dict[str, Any]) -> dict[str, Any]:
    assert run["state"] == "saved", run
    assert not run["errors"], run["errors"]
    trials = run["stored"]["trials"]
    assert [t["component_type"] for t in trials] == [r["component_type"] for r in run["rows"]]
    (row,) = [t for t in trials if t["component_type"] == "soc-dashboard"]
    for field in (
        "trial_index",
        "rt_ms",
        "response",
        "correct",
        "stimulus_onset_ms",
        "ended_reason",
    ):
        assert field in row
    assert row["trial_start_ms"] <= row["stimulus_onset_ms"] <= row["trial_end_ms"]
    events = row["events"]
    assert [e["event_index"] for e in events] == list(range(len(events)))
    assert all(
        isinstance(v, (str, int, float, bool, type(None))) for e in events for v in e.values()
    ), "events are flat objects (one long table)"
    times = [e["t_ms"] for e in events if e["type"] not in ("key", "mousedown", "mouseup", "click")]
    assert all(t >= 0 for t in times)
    return row


def of(row: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in row["events"] if e["type"] == kind]


def test_flanker_like_session_runs_its_schedule_and_scores_the_centre_spike(
    soc_runs: dict[str, dict[str, Any]],
) -> None:
    row = session_row(soc_runs["FLANKER-soc-dashboard-01"])
    assert row["ended_reason"] == "duration" and row["session_duration_ms"] >= 30000
    assert row["composed_from"] == ["soc-subtask-flanker-like"]
    shown = of(row, "flanker_present")
    assert 10 <= len(shown) <= 20, len(shown)
    answered = of(row, "flanker_response") + of(row, "flanker_late_response")
    assert answered, "the participant's keys were recorded"
    for e in answered:
        assert e["correct"] is ((e["response"] == "reject") == e["should_reject"]), e
        assert e["rt_ms"] > 0
    closed = {
        e["stimulus_id"] for e in of(row, "flanker_response") + of(row, "flanker_no_response")
    }
    assert closed == {e["stimulus_id"] for e in shown} or len(closed) >= len(shown) - 1
    (summary,) = row["subtasks_summary"]["flanker_like"]
    assert summary["presented"] == len(shown)
    assert summary["responded"] == len(of(row, "flanker_response"))
    assert of(row, "subtask_instructions_shown") and of(row, "subtask_instructions_dismissed")


def test_sart_like_log_triage(soc_runs: dict[str, dict[str, Any]]) -> None:
    row = session_row(soc_runs["sample_soc_sart_10s"])
    presented = of(row, "sart_present")
    assert 8 <= len(presented) <= 14, len(presented)  # one entry per 900 ms for 10 s
    trials = of(row, "sart_trial")
    assert {e["entry_id"] for e in trials} == {e["entry_id"] for e in presented}
    for e in trials:
        assert e["correct"] is (e["outcome"] in ("hit", "correct_rejection"))
        assert e["responded"] is (e["outcome"] in ("hit", "false_alarm"))
    # go_condition "target" means go on benign (distractor) entries, as in the reference.
    assert all(e["should_respond"] is (e["entry_class"] == "benign") for e in trials)
    (summary,) = row["subtasks_summary"]["sart_like"]
    assert summary["presented"] == len(presented)
    # At most one: on a loaded machine a press meant for one entry can land after the scroll.
    assert summary["false_alarms"] <= 1 and summary["accuracy"] >= 0.8
    assert of(row, "sart_subtask_end")[0]["reason"] == "run_limit"


def test_nback_like_alert_correlation(soc_runs: dict[str, dict[str, Any]]) -> None:
    row = session_row(soc_runs["sample_soc_nback_10s"])
    shown = of(row, "nback_present")
    assert 9 <= len(shown) <= 13, len(shown)
    for i, e in enumerate(shown):
        assert e["is_match"] is (i >= 2 and shown[i - 2]["src_ip"] == e["src_ip"])
    for e in of(row, "nback_response"):
        assert e["correct"] is e["is_match"] and e["rt_ms"] > 0
    (summary,) = row["subtasks_summary"]["nback_like"]
    assert summary["false_alarms"] <= 1  # as for SART: a press may land after the next alert
    assert summary["hits"] + summary["misses"] == sum(e["is_match"] for e in shown)


def test_pvt_like_and_sart_like_windows_overlap(soc_runs: dict[str, dict[str, Any]]) -> None:
    row = session_row(soc_runs["sample_soc_pvt_like_01"])
    shows = of(row, "subtask_window_show")
    assert sorted(e["subtask_index"] for e in shows) == [0, 1]
    flashes = of(row, "pvt_like_flash_onset")
    assert flashes, "alerts flashed"
    responses = of(row, "pvt_like_response")
    assert responses and all(0 < e["rt_ms"] < 1200 for e in responses)
    for e in responses:
        flash = next(f for f in flashes if f["stimulus_id"] == e["stimulus_id"])
        assert abs(e["t_ms"] - flash["t_ms"] - e["rt_ms"]) < 0.01
    summary = row["subtasks_summary"]
    assert summary["pvt_like"][0]["presented"] >= len(flashes)
    assert summary["sart_like"][0]["presented"] >= 10
    hides = of(row, "subtask_window_hide")
    assert {e["subtask_index"] for e in hides} == {0, 1}


def test_windows_without_schedule_take_turns(soc_runs: dict[str, dict[str, Any]]) -> None:
    row = session_row(soc_runs["sample_soc_3tasks_sequence"])
    assert [w["start_at_ms"] for w in row["soc_schedule"]] == [0, 5000, 10000]
    shows = of(row, "subtask_window_show")
    hides = of(row, "subtask_window_hide")
    assert [e["subtask_index"] for e in shows] == [0, 1, 2]
    for i in (0, 1):
        assert hides[i]["subtask_index"] == i and hides[i]["t_ms"] <= shows[i + 1]["t_ms"]
    # Never early: a window opens on the first frame at or after its due session time (session
    # time leaves out instruction pop-ups, so wall time since the first window may be longer,
    # never shorter). Measured from the first window, not the previous one: a window shown a
    # few frames late (a stall) leaves the next one's gap shorter, and that one is still on time.
    since_first = [shows[i]["t_ms"] - shows[0]["t_ms"] for i in (1, 2)]
    assert all(t >= due - 17 for t, due in zip(since_first, (5000, 10000), strict=True)), (
        since_first
    )


def test_wcst_like_keys_clicks_icons_and_end_key(soc_runs: dict[str, dict[str, Any]]) -> None:
    row = session_row(soc_runs["wcst"])
    assert row["ended_reason"] == "response" and row["response"] == "escape"
    assert row["session_end_reason"] == "end_key" and row["rt_ms"] > 0
    assert row["session_duration_ms"] < 20000
    responses = of(row, "wcst_response")
    keyed = [e for e in responses if e["subtask_index"] == 0]
    clicked = [e for e in responses if e["subtask_index"] == 1]
    assert keyed and clicked
    assert all(e["device"] == "keyboard" and e["response_key"] in "1234" for e in keyed)
    assert all(e["device"] == "mouse" and e["choice_target_index"] == 0 for e in clicked)
    for e in responses:
        assert e["correct"] is (e["choice_target_index"] == e["correct_target_index"])
    # The sender-domain rule is right until two correct sorts in a row change it.
    assert of(row, "wcst_rule_change")[0]["prev_rule"] == "sender_domain"
    (icon,) = of(row, "icon_click")
    assert icon["label"] == "Mail" and icon["app"] == "mail" and icon["distractor"] is True
    assert any(e["type"] == "session_end" and e["reason"] == "end_key" for e in row["events"])
