"""End to end in the real app: first-run wizard, publish a compat config, a kiosk run with typed
responses left through the exit chord and a password, decrypt with a TOTP code, export, sync to
a second local server; and a run cut short by closing the app shows as interrupted."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from gui_helpers import (
    CENTRAL_ADMIN,
    CENTRAL_PASSWORD,
    FLANKER,
    PASSWORD,
    WAIT_MS,
    CentralServer,
    answer_trials,
    run_js,
)
from memory_keyring import MemoryKeyring
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWizard
from sqlalchemy import func, select

from cogflow_desktop.export import ExportOptions
from cogflow_desktop.gui.dialogs.unlock import UnlockDialog
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.pages.base import select_row, table_model
from cogflow_desktop.gui.runtime import AppRuntime, start_runtime
from cogflow_desktop.services import studies
from cogflow_desktop.store.models import AuditEvent, RunSession, SyncState

pytestmark = pytest.mark.gui

RUN_WAIT_MS = 90000


@pytest.fixture()
def central(tmp_path: Path) -> Iterator[CentralServer]:
    server = CentralServer(tmp_path / "central")
    yield server
    server.stop()


def _first_run(qtbot, window: MainWindow) -> str:  # type: ignore[no-untyped-def]
    assert window.needs_first_run()
    wizard = window.start_first_run()
    wizard.account_page.username.setText("lab-lead")
    wizard.account_page.password.setText(PASSWORD)
    wizard.account_page.repeat.setText(PASSWORD)
    wizard.next()
    wizard.recovery_page.saved.setChecked(True)
    wizard.next()
    secret = wizard.totp_page.secret_value
    wizard.totp_page.code.setText(pyotp.TOTP(secret).now())
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: window.wizard is None, timeout=WAIT_MS)
    assert window.state.session.can_decrypt()
    return secret


def _unlock_when_asked(qtbot, parent, code: str) -> None:  # type: ignore[no-untyped-def]
    """Fill the modal unlock dialog once it is up (it runs its own event loop)."""

    def fill() -> None:
        dialog = parent.findChild(UnlockDialog)
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(50, fill)
            return
        dialog.username.setCurrentText("lab-lead")
        dialog.password.setText(PASSWORD)
        dialog.code.setText(code)
        dialog.try_unlock()

    QTimer.singleShot(0, fill)


def test_wizard_kiosk_decrypt_export_sync(
    qtbot, window: MainWindow, tmp_path: Path, central: CentralServer, memory_keyring: MemoryKeyring
) -> None:
    secret = _first_run(qtbot, window)
    ctx = window.state.ctx
    slug = window.studies.import_file(FLANKER)
    assert slug and studies.latest_config(ctx, slug)["config"]["task_type"] == "flanker"

    # The participant answers a few trials; the experimenter leaves with the chord + password.
    kiosk = window.open_kiosk(slug, "P-001")
    assert (
        kiosk.isFullScreen()
        and kiosk.view.contextMenuPolicy() == Qt.ContextMenuPolicy.NoContextMenu
    )
    answered = answer_trials(qtbot, kiosk, 3, timeout=RUN_WAIT_MS)
    QTest.keyClick(
        kiosk.view.focusProxy() or kiosk.view,
        Qt.Key.Key_Q,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: kiosk.exit_dialog is not None, timeout=WAIT_MS)
    # The page itself never saw the chord: only the password ends the run.
    assert run_js(qtbot, kiosk.page, "window.cogflowRun.aborted") is False
    dialog = kiosk.exit_dialog
    dialog.username.setCurrentText("lab-lead")
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(kiosk.ended, timeout=RUN_WAIT_MS) as ended:
        dialog._check()
    outcome = ended.args[0]
    assert outcome.outcome == "aborted" and outcome.status == "failed"
    assert "ended by the experimenter and saved as failed" in outcome.sentence()
    with ctx.read() as s:
        run = s.scalars(select(RunSession)).one()
        run_id, trial_count = run.id, run.trial_count
        assert run.status == "failed" and trial_count >= answered

    # Decrypting asks for the password (the wizard's session is signed out) and a code.
    window.state.session.sign_out()
    page = window.results
    window.open_results(slug)
    select_row(page.runs, 0)
    _unlock_when_asked(qtbot, page, pyotp.TOTP(secret).at(time.time() + 30))
    job = page.decrypt_selected()
    assert job is not None
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    assert "results readable until" in page.mfa_label.text()
    trials = table_model(page.trials)
    assert trials.rowCount() == trial_count
    responses = [t.get("response") for t in trials.rows]
    assert "f" in responses
    assert page.decrypted[run_id]["status"] == "failed"

    # Export the decrypted run.
    out = tmp_path / "flanker.csv"
    export_job = window.exports.run(ExportOptions(slug, "csv", out))
    assert export_job is not None
    qtbot.waitUntil(lambda: window.exports.job is None, timeout=WAIT_MS)
    assert (
        window.exports.last_result is not None and window.exports.last_result.trials == trial_count
    )
    with out.open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == trial_count

    # Sync to a second local server, with the remote password kept in the keyring.
    sync = window.sync
    window.show_page(sync)
    sync.server_url.setText(central.url)
    sync.username.setText(CENTRAL_ADMIN)
    sync.password.setText(CENTRAL_PASSWORD)
    assert sync.save_credentials()
    assert sync.sync_now() is not None
    qtbot.waitUntil(lambda: sync.job is None, timeout=RUN_WAIT_MS)
    report = sync.last_report
    assert report is not None and report.acknowledged == 1, sync.status.text()
    with ctx.read() as s:
        state = s.get(SyncState, run_id)
        assert state is not None and state.state == "acknowledged"
        remote_slug, remote_id = state.remote_study_slug, state.remote_run_session_id
        actions = set(s.scalars(select(AuditEvent.action)).all())
    assert {"kiosk.exit", "results.decrypt", "results.export"} <= actions
    remote_runs = studies.study_runs(central.ctx, remote_slug)["runs"]
    assert [(r["run_session_id"], r["status"], r["trial_count"]) for r in remote_runs] == [
        (remote_id, "failed", trial_count)
    ]
    rows = {r["run_session_id"]: r for r in table_model(sync.table).rows}
    assert rows[run_id]["sync_state"] == "acknowledged"


def test_closing_the_app_mid_run_leaves_it_interrupted(
    qtbot, window: MainWindow, runtime: AppRuntime, researcher
) -> None:  # type: ignore[no-untyped-def]
    slug = window.studies.import_file(FLANKER)
    kiosk = window.open_kiosk(slug, "P-002")
    answer_trials(qtbot, kiosk, 2, timeout=RUN_WAIT_MS)
    ctx = runtime.ctx

    def stored() -> int:
        with ctx.read() as s:
            return int(s.scalar(select(func.max(RunSession.trial_count))) or 0)

    qtbot.waitUntil(lambda: stored() >= 1, timeout=WAIT_MS)  # checkpointed as they ended
    kiosk.close()
    assert kiosk.isVisible()  # a participant cannot close it
    window.close()  # the researcher quits the app: the run is left as it is
    runtime.stop()
    data_dir = ctx.settings.data_dir

    again = start_runtime(data_dir, port=0)
    try:
        reopened = MainWindow(again)
        qtbot.addWidget(reopened)
        reopened.open_results(slug)
        row = table_model(reopened.results.runs).row(0)
        assert row["state"] == "interrupted" and row["trial_count"] >= 1
        assert reopened.results.notice.isVisibleTo(reopened.results)
        reopened.shutdown()
    finally:
        again.stop()
