"""The participant's window in the real app: the end of a run (#12.3), the run paused behind the
exit dialog (#12.4), and a study the page refuses before the first trial."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gui_helpers import (
    PASSWORD,
    RESEARCHER,
    ROOT_STATE_JS,
    WAIT_MS,
    Researcher,
    run_js,
    wait_js,
)
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from cogflow_desktop.gui.kiosk import KioskWindow
from cogflow_desktop.gui.kiosk_outcome import KioskOutcome, exit_intro
from cogflow_desktop.gui.main_window import MainWindow

pytestmark = pytest.mark.gui

RUN_WAIT_MS = 90000
ONE_SCREEN = {
    "experiment_type": "trial-based",
    "task_type": "flanker",
    "timeline": [{"type": "instructions", "stimulus": "Press F to finish.", "choices": "ALL_KEYS"}],
}


def _publish(window: MainWindow, tmp_path: Path, config: dict, name: str) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    slug = window.studies.import_file(path)
    assert slug == name
    return slug


def _press(kiosk: KioskWindow, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    QTest.keyClick(kiosk.view.focusProxy() or kiosk.view, key, modifiers)


CHORD = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def _finish_one_screen_run(qtbot, kiosk: KioskWindow) -> None:  # type: ignore[no-untyped-def]
    wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running", timeout=RUN_WAIT_MS)
    wait_js(qtbot, kiosk.page, "document.body.innerText.includes('Press F to finish')")
    _press(kiosk, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: kiosk.run_saved, timeout=RUN_WAIT_MS)


def test_a_stored_run_shows_the_end_screen_then_closes_itself(
    qtbot, window: MainWindow, researcher: Researcher, tmp_path: Path
) -> None:
    slug = _publish(window, tmp_path, ONE_SCREEN, "one-screen")
    session = window.state.session
    session.sign_in(RESEARCHER, PASSWORD)
    window.state.prefs.kiosk_end_seconds = 1
    kiosk = window.open_kiosk(slug, "P-end")
    # A participant's run locks the results: whoever sits here next finds them locked.
    assert session.username is None
    _finish_one_screen_run(qtbot, kiosk)
    # The thank-you screen is up, with the run stored...
    assert kiosk.isVisible()
    assert run_js(qtbot, kiosk.page, ROOT_STATE_JS) == "saved"
    # ...and the window goes by itself, saying what really happened.
    with qtbot.waitSignal(kiosk.ended, timeout=WAIT_MS) as ended:
        pass
    outcome: KioskOutcome = ended.args[0]
    assert outcome.outcome == "completed" and outcome.status == "completed"
    assert outcome.sentence() == "The run of one-screen is saved as completed with 1 trial."
    qtbot.waitUntil(lambda: window.kiosk is None, timeout=WAIT_MS)
    assert outcome.sentence() in window.statusBar().currentMessage()


def test_with_no_end_time_the_kiosk_waits_for_the_experimenters_key(
    qtbot, window: MainWindow, researcher: Researcher, tmp_path: Path
) -> None:
    slug = _publish(window, tmp_path, ONE_SCREEN, "one-screen")
    window.state.prefs.kiosk_end_seconds = 0
    kiosk = window.open_kiosk(slug, "P-wait")
    _finish_one_screen_run(qtbot, kiosk)
    qtbot.wait(1500)
    assert kiosk.isVisible() and window.kiosk is kiosk
    # The run is stored: the chord closes the end screen without a password or a "failed".
    with qtbot.waitSignal(kiosk.ended, timeout=WAIT_MS) as ended:
        _press(kiosk, Qt.Key.Key_Q, CHORD)
    assert kiosk.exit_dialog is None
    assert ended.args[0].outcome == "completed" and ended.args[0].status == "completed"


def test_the_run_is_paused_behind_the_exit_dialog(
    qtbot, window: MainWindow, researcher: Researcher, tmp_path: Path
) -> None:
    from gui_helpers import FLANKER

    slug = window.studies.import_file(FLANKER)
    assert slug is not None
    kiosk = window.open_kiosk(slug, "P-pause")
    wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running", timeout=RUN_WAIT_MS)
    _press(kiosk, Qt.Key.Key_Q, CHORD)
    qtbot.waitUntil(lambda: kiosk.exit_dialog is not None, timeout=WAIT_MS)
    # The page was paused before the dialog opened, and says so.
    assert run_js(qtbot, kiosk.page, ROOT_STATE_JS) == "paused"
    assert kiosk.paused and "The run is paused" in kiosk.exit_dialog.intro.text()
    kiosk.exit_dialog.reject()  # cancel: the run goes on where it stopped
    wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running")
    assert run_js(qtbot, kiosk.page, "window.cogflowRun.aborted") is False


def test_a_refused_study_closes_the_kiosk_and_tells_the_researcher(
    qtbot, window: MainWindow, researcher: Researcher, tmp_path: Path
) -> None:
    refused = {
        "experiment_type": "trial-based",
        "task_type": "flanker",
        "timeline": [{"type": "holographic-trial"}],
    }
    slug = _publish(window, tmp_path, refused, "refused-study")
    sentence = "Timeline item 1: holographic-trial is not supported by this version."
    # The page itself checks the config before the first trial and refuses it.
    with qtbot.waitSignal(kiosk_ended(window, slug, "P-refused"), timeout=RUN_WAIT_MS) as ended:
        pass
    outcome: KioskOutcome = ended.args[0]
    assert outcome.outcome == "refused" and outcome.messages == (sentence,)
    qtbot.waitUntil(lambda: window.kiosk is None, timeout=WAIT_MS)
    box = window.findChild(QMessageBox, "kioskProblemBox")
    assert box is not None and box.isVisible()
    assert "cannot run in this version" in box.text() and sentence in box.text()


def kiosk_ended(window: MainWindow, slug: str, participant: str):
    """Open the kiosk and return its `ended` signal (connected before the page can answer)."""
    kiosk = window.open_kiosk(slug, participant)
    return kiosk.ended


def test_outcome_sentences_say_what_happened() -> None:
    lost = KioskOutcome("abort_unconfirmed", "s", trials=3)
    assert "kept as interrupted" in lost.sentence() and lost.problem
    aborted = KioskOutcome("aborted", "s", {"status": "failed", "submitted": True}, trials=2)
    assert aborted.sentence() == (
        "The run of s was ended by the experimenter and saved as failed with 2 trials."
    )
    assert not aborted.problem
    closed = KioskOutcome("closed", "s", page_state="error")
    assert "no run was recording" in closed.sentence()
    assert exit_intro("running", paused=True).startswith("The run is paused.")
    assert "paused" not in exit_intro("running", paused=False)
    assert "No run is recording" in exit_intro("invalid-config", paused=False)
