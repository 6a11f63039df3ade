"""Review finding 2: a kiosk run in the real app with the local server stopped mid-run leaves no
plaintext participant id, trial or payload anywhere under the data folder (the web profile
included); what the page could not deliver is kept sealed to the install key, and the next run
started hands it over, still sealed, so a researcher reads it like every other result.

The reproduction: the Interpreter buffered every unacknowledged trial in localStorage, in plain
text under <data>/webengine/storage."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from gui_helpers import PASSWORD, RESEARCHER, WAIT_MS, Researcher, run_js, wait_js
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import func, select

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.runtime import AppRuntime, start_runtime
from cogflow_desktop.services import results, studies, users
from cogflow_desktop.store.models import RunSession, TrialRecord

pytestmark = pytest.mark.gui

ROOT_STATE = "String(document.getElementById('cogflow-root')?.dataset.cogflowState)"
ROWS = "window.cogflowRun ? window.cogflowRun.rows.length : -1"
BOTH_KEPT = (
    "Object.keys(localStorage).filter((k) => k.startsWith('cogflow.'))"
    ".map((k) => JSON.parse(localStorage.getItem(k)))"
    ".some((e) => Object.keys(e.trials || {}).length >= 2)"
)
STORED_LOCALLY = (
    "Object.keys(localStorage).filter((k) => k.startsWith('cogflow.'))"
    ".map((k) => localStorage.getItem(k)).join('')"
)


def _config() -> dict:
    survey = {"type": "survey-response", "questions": [{"id": "note", "type": "text"}]}
    return {
        "experiment_type": "trial-based",
        "task_type": "custom",
        "timeline": [
            {"type": "instructions", "stimulus": "Press F to begin", "choices": ["f"]},
            survey,
            {**survey, "questions": [{"id": "again", "type": "text"}]},
        ],
    }


def _answer_survey(qtbot, page, text: str, rows: int) -> None:  # type: ignore[no-untyped-def]
    wait_js(qtbot, page, "!!document.querySelector('[data-role=\"survey\"] input')")
    run_js(
        qtbot,
        page,
        "(() => { const i = document.querySelector('[data-role=\"survey\"] input');"
        f" i.value = {json.dumps(text)}; i.dispatchEvent(new Event('input', {{bubbles: true}}));"
        " document.querySelector('[data-role=\"submit\"]').click(); })()",
    )
    wait_js(qtbot, page, ROWS, lambda n: n >= rows)


def _leaks(folder: Path, secrets: dict[str, str]) -> list[str]:
    found = []
    blobs = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    for name, value in secrets.items():
        forms = (value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be"))
        if any(form in blob for blob in blobs for form in forms):
            found.append(name)
    return found


def _stored(runtime: AppRuntime, run_id: str) -> int:
    with runtime.ctx.read() as s:
        return int(
            s.scalar(select(func.count(TrialRecord.id)).where(TrialRecord.run_id == run_id)) or 0
        )


def test_server_stopped_mid_run_leaves_no_plaintext_and_nothing_is_lost(
    qtbot, window: MainWindow, runtime: AppRuntime, researcher: Researcher
) -> None:  # type: ignore[no-untyped-def]
    data_dir = runtime.ctx.settings.data_dir
    secrets = {
        "participant id": f"PIDMARK{uuid.uuid4().hex}",
        "first typed answer": f"TRIALMARK{uuid.uuid4().hex}",
        "second typed answer": f"TRIALMARKB{uuid.uuid4().hex}",
    }
    studies.publish(
        runtime.ctx,
        studies.PublishRequest("buffered", "Buffered", "v1", _config(), None, None),
        actor="test",
        client="test",
    )
    kiosk = window.open_kiosk("buffered", secrets["participant id"])
    page = kiosk.page
    wait_js(qtbot, page, ROOT_STATE, lambda v: v == "running")
    wait_js(qtbot, page, "document.body.innerText.includes('Press F')")
    QTest.keyClick(kiosk.view.focusProxy() or kiosk.view, Qt.Key.Key_F)
    wait_js(qtbot, page, ROWS, lambda n: n >= 1)
    with runtime.ctx.read() as s:
        run_id = s.scalar(select(RunSession.id))
    assert run_id is not None
    qtbot.waitUntil(lambda: _stored(runtime, run_id) == 1, timeout=WAIT_MS)

    runtime.server.stop()  # the local server goes away mid-run
    _answer_survey(qtbot, page, secrets["first typed answer"], 2)
    _answer_survey(qtbot, page, secrets["second typed answer"], 3)
    # The run has ended; its submit cannot get through. The page keeps both answers locally...
    wait_js(qtbot, page, BOTH_KEPT)
    kept = run_js(qtbot, page, STORED_LOCALLY)
    # ... and none of it in clear.
    assert not [name for name, value in secrets.items() if value in kept]
    window.shutdown()  # the profile is written out and closed
    assert _leaks(data_dir, secrets) == []

    # The next run on this computer hands the sealed buffer over; a researcher reads it. (The
    # page's storage belongs to the server's address: the app keeps its port, 8000, when free.)
    port = runtime.server.port
    runtime.stop()
    again = start_runtime(data_dir, port=port)
    try:
        reopened = MainWindow(again)
        qtbot.addWidget(reopened)
        next_kiosk = reopened.open_kiosk("buffered", "P-next")
        wait_js(qtbot, next_kiosk.page, ROOT_STATE, lambda v: v == "running")
        qtbot.waitUntil(lambda: _stored(again, run_id) == 3, timeout=WAIT_MS)
        key = users.unlock_with_password(again.ctx, RESEARCHER, PASSWORD)
        with again.ctx.read() as s:
            answer = results.decrypt_run(s, key, run_id, True)
        typed = [t["response"] for t in answer["trials"][1:]]
        assert typed == [
            {"note": secrets["first typed answer"]},
            {"again": secrets["second typed answer"]},
        ]
        assert answer["integrity"] == results.VERIFIED
        assert wait_js(qtbot, next_kiosk.page, STORED_LOCALLY, lambda v: v == "") == ""
        reopened.shutdown()
    finally:
        again.stop()
