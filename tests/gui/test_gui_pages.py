"""Each page of the main window, on real widgets over a real database and server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gui_helpers import (
    FLANKER,
    PASSWORD,
    RESEARCHER,
    WAIT_MS,
    Researcher,
    record_run,
)
from memory_keyring import MemoryKeyring
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QScrollArea
from sqlalchemy import text

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.pages.base import select_row, table_model
from cogflow_desktop.gui.prefs import PREFS_FILE, Prefs
from cogflow_desktop.services.context import open_context
from cogflow_desktop.sync import keystore

pytestmark = pytest.mark.gui


def _import_flanker(window: MainWindow) -> str:
    slug = window.studies.import_file(FLANKER)
    assert slug == "ABC1234-flanker-01"
    return slug


def _error_boxes(window: MainWindow) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def test_every_page_opens_without_error(qtbot, window: MainWindow) -> None:
    for row in range(window.nav.count()):
        window.nav.setCurrentRow(row)
        assert window.stack.currentIndex() == row
    assert _error_boxes(window) == []
    assert window.state.runtime.url in window.server_label.text()


def test_studies_import_lists_the_study(qtbot, window: MainWindow, researcher: Researcher) -> None:
    page = window.studies
    page.refresh()
    assert page.empty_hint.isVisibleTo(page)
    assert not page.buttons["runButton"].isEnabled()
    slug = _import_flanker(window)
    record_run(window.state.runtime, slug, "P1", 3, submit="completed")
    page.refresh()
    row = table_model(page.table).row(0)
    assert row["study_slug"] == slug and row["version_count"] == 1 and row["run_count"] == 1
    assert row["sync_summary"] == "1 not synced"
    assert page.selected_slug() == slug and page.buttons["runButton"].isEnabled()
    # Importing again publishes the next version of the same study.
    page.import_file(FLANKER)
    page.refresh()
    row = table_model(page.table).row(0)
    assert (row["version_count"], row["latest_config_version"]) == (2, "v2")


def test_studies_import_of_a_bad_file_says_why(qtbot, window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    assert window.studies.import_file(bad) is None
    boxes = _error_boxes(window)
    assert len(boxes) == 1 and "not a CogFlow Builder config" in boxes[0].text()
    assert "Traceback" not in boxes[0].detailedText()  # the sentence says it all


def test_results_interrupted_runs_and_decrypt(
    qtbot, window: MainWindow, researcher: Researcher
) -> None:
    slug = _import_flanker(window)
    rt = window.state.runtime
    done = record_run(rt, slug, "P1", 4, submit="completed")
    cut = record_run(rt, slug, "P2", 2)
    # A restart (another process opening the same data folder) flags the open run.
    open_context(rt.ctx.settings).close()
    page = window.results
    window.open_results(slug)
    rows = {r["run_session_id"]: r for r in table_model(page.runs).rows}
    assert rows[done]["state"] == "completed" and rows[cut]["state"] == "interrupted"
    assert page.notice.isVisibleTo(page) and "1 run(s) were interrupted" in page.notice.text()
    assert page.mfa_label.text().startswith("Locked")
    session = window.state.session
    session.sign_in(RESEARCHER, PASSWORD)
    session.verify_code(researcher.next_code())
    page.update_mfa_label()
    assert "results readable until" in page.mfa_label.text()
    job = page.decrypt([done, cut])
    assert job is not None
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    assert set(page.decrypted) == {done, cut}
    assert page.decrypted[cut]["interrupted"] is True
    select_row(page.runs, list(rows).index(cut))
    trials = table_model(page.trials)
    assert trials.rowCount() == 2 and "interrupted" in page.summary.toPlainText()
    assert [c.title for c in trials._columns][:2] == ["trial_index", "rt_ms"]
    page.lock()
    assert page.mfa_label.text().startswith("Locked") and page.decrypted == {}


def test_sync_page_keeps_password_in_keyring(
    qtbot, window: MainWindow, researcher: Researcher, memory_keyring: MemoryKeyring
) -> None:
    page = window.sync
    window.show_page(page)
    page.server_url.setText("")
    assert page.sync_now() is None and "address" in page.status.text()
    page.server_url.setText("https://central.example.org/")
    page.username.setText("alice")
    page.password.setText("s3cret-password")
    assert page.save_credentials()
    assert page.password.text() == ""
    assert list(memory_keyring.items.values()) == ["s3cret-password"]
    data_dir = window.state.ctx.settings.data_dir
    assert "s3cret" not in (data_dir / PREFS_FILE).read_text(encoding="utf-8")
    assert Prefs.load(data_dir).sync_username == "alice"
    # Nobody signed in and no unattended key: sync says what to do instead of starting.
    assert page.sync_now() is None and "sign in" in page.status.text()
    page.auto.setChecked(True)
    assert not page.auto.isChecked() and "Sign in" in page.status.text()
    window.state.session.sign_in(RESEARCHER, PASSWORD)
    page.auto.setChecked(True)
    assert page.auto.isChecked() and page.timer.isActive()
    assert keystore.is_enabled(window.state.ctx) and Prefs.load(data_dir).auto_sync is True
    page.auto.setChecked(False)
    assert not page.timer.isActive() and not keystore.is_enabled(window.state.ctx)


def test_audit_page_shows_a_broken_chain(qtbot, window: MainWindow, researcher: Researcher) -> None:
    page = window.audit
    window.show_page(page)
    assert page.chain_label.text().startswith("✔ Chain verified")
    assert table_model(page.table).rowCount() > 0
    with window.state.ctx.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 2"))
    page.verify()
    assert page.broken_id == 2
    assert "broken at event 2" in page.chain_label.text()
    selected = page.table.selectionModel().selectedRows()
    assert [table_model(page.table).row(i.row())["id"] for i in selected] == [2]


def test_settings_page_remembers_kiosk_screen(qtbot, window: MainWindow) -> None:
    page = window.settings_page
    window.show_page(page)
    assert page.screen.count() >= 1
    page.screen.setCurrentIndex(page.screen.count() - 1)
    data_dir = window.state.ctx.settings.data_dir
    assert Prefs.load(data_dir).kiosk_screen == page.screen.count() - 1


def test_settings_shows_paths_in_full_and_scrolls_on_a_small_screen(
    qtbot, window: MainWindow
) -> None:
    page = window.settings_page
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    window.show_page(page)
    QApplication.processEvents()
    values = [
        label
        for label in page.findChildren(QLabel)
        if label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
        and not label.wordWrap()  # prose that wraps is another matter
    ]
    assert any(label.text() == str(window.state.ctx.settings.data_dir) for label in values)
    for label in values:  # not cut after its first word
        metrics = label.fontMetrics()
        assert label.width() >= metrics.horizontalAdvance(label.text()), label.text()
        assert label.height() >= metrics.height(), label.text()
    # The long form scrolls inside the window rather than making it taller than the screen.
    assert window.minimumSizeHint().height() <= 720
    area = page.parentWidget().parentWidget()
    assert isinstance(area, QScrollArea) and area.verticalScrollBar().maximum() > 0


def test_builder_page(qtbot, window: MainWindow) -> None:
    page = window.builder
    window.open_builder("some-study")
    if not page.installed:
        assert page.missing.isVisibleTo(page) and page.view is None
        return
    assert page.view is not None
    with qtbot.waitSignal(page.view.loadFinished, timeout=WAIT_MS) as blocker:
        pass
    assert blocker.args == [True]
    assert page.view.url().path() == "/builder/"
