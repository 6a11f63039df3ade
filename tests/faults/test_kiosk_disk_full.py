"""A kiosk run whose disk fills up, in the real app: the experimenter is warned of little free
space when the run starts, sees "Recording paused" in the status bar when checkpoints are
refused (the participant sees nothing), and "Recording resumed" once space is freed; the run
then ends with every trial stored."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_helpers import fill_disk, instructions_study, small_filesystem
from gui_helpers import ROOT_STATE_JS, answer_trials, run_js, wait_js

# QtWebEngine must be imported before the QApplication exists (pytest-qt makes it lazily).
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: F401
from sqlalchemy import func, select

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.runtime import AppRuntime, start_runtime
from cogflow_desktop.services import users
from cogflow_desktop.store.models import RunSession, TrialRecord

pytestmark = pytest.mark.gui

SCREENS = 6
STUDY = instructions_study(SCREENS)
WAIT_MS = 60000


@pytest.fixture()
def small_runtime(tmp_path: Path) -> Iterator[AppRuntime]:
    with small_filesystem(tmp_path / "mnt") as mnt:
        runtime = start_runtime(mnt / "data", port=0)
        try:
            users.create_user(runtime.ctx, "lab", "a long lab password")
            yield runtime
        finally:
            runtime.stop()


def _stored(runtime: AppRuntime, run_id: str) -> int:
    with runtime.ctx.read() as s:
        return int(s.scalar(select(func.count()).where(TrialRecord.run_id == run_id)) or 0)


def test_a_full_disk_pauses_recording_for_the_experimenter_only(
    qtbot, small_runtime: AppRuntime, tmp_path: Path
) -> None:
    runtime = small_runtime
    window = MainWindow(runtime)
    qtbot.addWidget(window)
    window.show()
    try:
        # Warned as the app starts: a 6 MB disk is far below what the app wants free.
        assert "MB is free on the disk" in window.statusBar().currentMessage()
        window.statusBar().clearMessage()
        path = tmp_path / "full-disk.json"
        path.write_text(json.dumps(STUDY), encoding="utf-8")
        slug = window.studies.import_file(path)
        assert slug
        kiosk = window.open_kiosk(slug, "P-full")
        # Warned at the start: a 6 MB disk is far below what the app wants free.
        assert "MB is free on the disk" in window.statusBar().currentMessage()

        wait_js(qtbot, kiosk.page, ROOT_STATE_JS, lambda v: v == "running", timeout=WAIT_MS)
        run_id = run_js(qtbot, kiosk.page, "window.cogflowRun.start.run_session_id")
        answer_trials(qtbot, kiosk, 2)
        qtbot.waitUntil(lambda: _stored(runtime, run_id) == 2, timeout=WAIT_MS)

        # The disk fills (the write-ahead log first emptied, so the next write must grow it).
        emptied = sqlite3.connect(runtime.settings.db_path, isolation_level=None)
        try:
            assert emptied.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        finally:
            emptied.close()
        filler = fill_disk(runtime.settings.data_dir.parent)
        answer_trials(qtbot, kiosk, 4)
        qtbot.waitUntil(
            lambda: "Recording paused" in window.statusBar().currentMessage(), timeout=WAIT_MS
        )
        message = window.statusBar().currentMessage()
        window.grab().save(str(tmp_path / "recording-paused.png"))  # for a look by eye
        assert "disk of the data folder is full" in message, message
        # The participant is not told: the page shows the next screen, nothing about disks.
        page_text = run_js(qtbot, kiosk.page, "document.body.innerText")
        assert "disk" not in page_text.lower() and "paused" not in page_text.lower()
        assert run_js(qtbot, kiosk.page, ROOT_STATE_JS) == "running"
        assert _stored(runtime, run_id) == 2

        filler.unlink()  # the experimenter frees space: the page's next attempt goes through
        qtbot.waitUntil(
            lambda: "Recording resumed" in window.statusBar().currentMessage(), timeout=WAIT_MS
        )
        assert _stored(runtime, run_id) == 4

        answer_trials(qtbot, kiosk, SCREENS)
        qtbot.waitUntil(lambda: kiosk.run_saved, timeout=WAIT_MS)
        assert _stored(runtime, run_id) == SCREENS
        with runtime.ctx.read() as s:
            assert s.scalar(select(RunSession.status).where(RunSession.id == run_id)) == (
                "completed"
            )
        kiosk.force_close()
    finally:
        window.shutdown()
