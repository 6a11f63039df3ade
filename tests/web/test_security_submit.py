"""Review finding 9 (Interpreter, in a real browser): when the server keeps refusing the final
submit with the same 4xx, the page stops retrying, keeps the result sealed on this computer
(never in clear), tells the participant to call the experimenter, and the next run hands it
over. Before the fix the page retried for ever."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM
from conftest import LiveServer, enrolled_researcher, publish

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) is not installed")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not installed")

CONFIG = {
    "experiment_type": "trial-based",
    "task_type": "custom",
    "timeline": [
        {
            "type": "survey-response",
            "questions": [{"id": "note", "type": "text"}],
        }
    ],
}
STATE = "document.getElementById('cogflow-root').dataset.cogflowState"


def _until(page: Any, expression: str, timeout_s: float = 120) -> Any:
    """Poll an expression (wait_for_function evaluates strings, which the page's CSP refuses)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        assert time.monotonic() < deadline, f"{expression!r} never held"
        page.wait_for_timeout(100)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def test_a_refused_submit_is_given_up_kept_sealed_and_handed_over_later(
    live_server: LiveServer, browser: Any
) -> None:
    publish(live_server.url, "refused-submit", CONFIG)
    context = browser.new_context()
    page = context.new_page()
    refusals: list[str] = []

    def refuse(route: Any) -> None:
        refusals.append(route.request.url)
        route.fulfill(status=400, content_type="application/json", body='{"error": "refused"}')

    page.route("**/api/v1/results/submit", refuse)
    page.goto(f"{live_server.url}/interpreter/?study=refused-submit&participant=P-refused")
    page.wait_for_selector("[data-role='survey'] input", timeout=60000)
    page.fill("[data-role='survey'] input", "TYPED-BEFORE-REFUSAL")
    page.click("[data-role='submit']")
    _until(page, f"{STATE} === 'error'")
    result = page.evaluate("window.cogflowResult")
    assert result["gave_up"] is True and result["kept_sealed"] is True
    assert len(refusals) == 3
    assert "could not be saved" in page.inner_text("#cogflow-root")
    kept = page.evaluate(
        "Object.keys(localStorage).filter((k) => k.startsWith('cogflow.'))"
        ".map((k) => localStorage.getItem(k)).join('')"
    )
    assert kept and "TYPED-BEFORE-REFUSAL" not in kept
    run_id = page.evaluate("window.cogflowRun.start.run_session_id")
    page.close()
    # The next run in this browser hands the sealed copy over.
    nxt = context.new_page()
    nxt.goto(f"{live_server.url}/interpreter/?study=refused-submit&participant=P-next")
    nxt.wait_for_selector("[data-role='survey'] input", timeout=60000)
    _until(nxt, "Object.keys(localStorage).every((k) => !k.startsWith('cogflow.sealed.'))")
    researcher = enrolled_researcher(live_server)
    answer = researcher.decrypt(run_id)
    assert [t["response"] for t in answer["trials"]] == [{"note": "TYPED-BEFORE-REFUSAL"}]
    assert answer["result_payload"]["status"] == "completed"
    assert answer["integrity"] == "verified"
    context.close()
