"""The participant's page dies mid-run, for real: the test kills the QtWebEngine renderer
process. The kiosk tells the experimenter what is stored and, when the experimenter ends the
run, ends it as failed with every stored trial (the crash recorded in its result_payload) and
offers a new run for the same participant. (Continuing the same run: test_kiosk_resume.py.)"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_helpers import instructions_study
from gui_helpers import ROOT_STATE_JS, answer_trials, run_js, wait_js

# QtWebEngine must be imported before the QApplication exists (pytest-qt makes it lazily).
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: F401
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

from cogflow_desktop.gui.kiosk_outcome import KioskOutcome
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.runtime import AppRuntime, start_runtime
from cogflow_desktop.services import users
from cogflow_desktop.store.models import RunSession, TrialRecord

pytestmark = pytest.mark.gui

SCREENS = 8
STUDY = instructions_study(SCREENS)
WAIT_MS = 60000


@pytest.fixture()
def runtime(tmp_path: Path) -> Iterator[AppRuntime]:
    rt = start_runtime(tmp_path / "data", port=0)
    users.create_user(rt.ctx, "lab", "a long lab password")
    yield rt
    rt.stop()


def _runs(runtime: AppRuntime) -> list[tuple[str, str]]:
    with runtime.ctx.read() as s:
        return [(r.id, r.status) for r in s.scalars(select(RunSession).order_by(RunSession.id))]


def _stored(runtime: AppRuntime, run_id: str) -> int:
    with runtime.ctx.read() as s:
        return int(s.scalar(select(func.count()).where(TrialRecord.run_id == run_id)) or 0)


def _crash_box() -> QMessageBox | None:
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox) and w.objectName() == "kioskCrashBox" and w.isVisible():
            return w
    return None


def _click(box: QMessageBox, text: str) -> None:
    button = next(b for b in box.buttons() if b.text() == text)
    button.click()


def _kill_renderer(kiosk) -> int:  # type: ignore[no-untyped-def]
    pid = int(kiosk.page.renderProcessPid())
    assert pid > 0 and pid != os.getpid()
    os.kill(pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    return pid


def test_a_killed_page_is_recovered_ended_as_failed_and_a_new_run_can_start(
    qtbot, runtime: AppRuntime, tmp_path: Path
) -> None:
    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.show()
    try:
        path = tmp_path / "crash.json"
        path.write_text(json.dumps(STUDY), encoding="utf-8")
        slug = window.studies.import_file(path)
        assert slug
        kiosk = window.open_kiosk(slug, "P-crash")
        wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running", timeout=WAIT_MS)
        answer_trials(qtbot, kiosk, 3)
        first_run = run_js(qtbot, kiosk.page, "window.cogflowRun.start.run_session_id")
        qtbot.waitUntil(lambda: _stored(runtime, first_run) == 3, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: kiosk.run_id == first_run, timeout=WAIT_MS)

        _kill_renderer(kiosk)
        qtbot.waitUntil(lambda: _crash_box() is not None, timeout=WAIT_MS)
        box = _crash_box()
        assert box is not None
        box.grab().save(str(tmp_path / "crash-box.png"))  # for a look by eye
        assert "was killed" in box.text() and "has 3 trials stored" in box.text()
        assert "was killed" in window.statusBar().currentMessage()
        assert dict(_runs(runtime))[first_run] == "started"  # the experimenter decides
        assert _stored(runtime, first_run) == 3

        # The experimenter ends it as failed and starts a new run for the same participant.
        _click(box, "End it as failed, start a new run")
        assert dict(_runs(runtime))[first_run] == "failed"
        assert _stored(runtime, first_run) == 3
        assert "saved as failed with 3 trials" in window.statusBar().currentMessage()
        wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running", timeout=WAIT_MS)
        second_run = run_js(qtbot, kiosk.page, "window.cogflowRun.start.run_session_id")
        assert second_run != first_run
        answer_trials(qtbot, kiosk, 1)
        qtbot.waitUntil(lambda: _stored(runtime, second_run) == 1, timeout=WAIT_MS)

        # Killed again: this time the experimenter closes the participant's screen.
        qtbot.waitUntil(lambda: kiosk.run_id == second_run, timeout=WAIT_MS)
        _kill_renderer(kiosk)
        qtbot.waitUntil(lambda: _crash_box() is not None, timeout=WAIT_MS)
        with qtbot.waitSignal(kiosk.ended, timeout=WAIT_MS) as ended:
            _click(_crash_box(), "End it as failed, close the participant's screen")
        outcome: KioskOutcome = ended.args[0]
        assert outcome.outcome == "crashed" and not outcome.problem
        assert outcome.sentence() == (
            f"The participant's page stopped unexpectedly, so the run of {slug} was saved as "
            "failed with 1 trial."
        )
        assert dict(_runs(runtime))[second_run] == "failed"
        qtbot.waitUntil(lambda: window.kiosk is None, timeout=WAIT_MS)
        assert outcome.sentence() in window.statusBar().currentMessage()
    finally:
        window.shutdown()
