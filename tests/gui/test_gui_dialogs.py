"""Dialogs on real widgets over a real database: wizard, unlock/TOTP, kiosk start and exit."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from gui_helpers import PASSWORD, RESEARCHER, Researcher
from PySide6.QtWidgets import QDialog, QWizard
from sqlalchemy import select

from cogflow_desktop.gui.dialogs.export import ExportDialog
from cogflow_desktop.gui.dialogs.kiosk import KioskExitDialog, KioskStartDialog
from cogflow_desktop.gui.dialogs.unlock import UnlockDialog
from cogflow_desktop.gui.dialogs.wizard import FirstRunWizard
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.services import users
from cogflow_desktop.store.models import AuditEvent, User

pytestmark = pytest.mark.gui


def _actions(runtime: AppRuntime) -> list[tuple[str, str]]:
    with runtime.ctx.read() as s:
        return [(e.action, e.outcome) for e in s.scalars(select(AuditEvent)).all()]


def test_wizard_creates_account_shows_recovery_key_and_enrols_totp(
    qtbot, runtime: AppRuntime
) -> None:
    session = ResearcherSession(runtime.ctx)
    wizard = FirstRunWizard(session)
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.account_page
    page.username.setText("first")
    page.password.setText(PASSWORD)
    page.repeat.setText("something else entirely")
    wizard.next()
    assert wizard.currentPage() is page
    assert "differ" in page.error.text()
    page.repeat.setText(PASSWORD)
    wizard.next()
    assert wizard.currentPage() is wizard.recovery_page
    assert users.user_count(runtime.ctx) == 1
    key = wizard.recovery_page.key_text.toPlainText()
    assert key and key == wizard.created.recovery_key
    # The recovery key really opens the install (shown once, so it had better be right).
    users.unlock_with_recovery_key(runtime.ctx, key)
    # No going on before confirming it was saved, and no going back to the account page.
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert not wizard.button(QWizard.WizardButton.BackButton).isEnabled()
    wizard.recovery_page.saved.setChecked(True)
    wizard.next()
    totp_page = wizard.totp_page
    assert wizard.currentPage() is totp_page
    assert not totp_page.qr.pixmap().isNull()
    secret = totp_page.secret.text()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    totp_page.code.setText("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    finish.click()
    assert wizard.result() != QDialog.DialogCode.Accepted
    assert "Invalid TOTP code" in totp_page.error.text()
    totp_page.code.setText(pyotp.TOTP(secret).now())
    finish.click()
    assert wizard.result() == QDialog.DialogCode.Accepted
    assert session.username == "first" and session.can_decrypt()
    with runtime.ctx.read() as s:
        assert s.scalar(select(User.mfa_enabled).where(User.username == "first")) is True
    assert ("mfa.verify", "ok") in _actions(runtime)


def test_unlock_dialog_asks_password_then_code(
    qtbot, runtime: AppRuntime, researcher: Researcher
) -> None:
    session = ResearcherSession(runtime.ctx)
    dialog = UnlockDialog(session, [RESEARCHER])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password.setText("wrong password")
    dialog.code.setText(researcher.next_code())
    dialog.try_unlock()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "Invalid credentials" in dialog.error.text()
    assert session.username is None
    dialog.password.setText(PASSWORD)
    dialog.code.setText("12345x")
    dialog.try_unlock()
    # The password step is kept; only the code is asked again.
    assert session.username == RESEARCHER and not session.can_decrypt()
    assert not dialog.needs_password
    assert "Invalid TOTP code" in dialog.error.text()
    dialog.code.setText(researcher.next_code())
    dialog.try_unlock()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert session.can_decrypt()


def test_unlock_dialog_finishes_an_abandoned_enrolment(qtbot, runtime: AppRuntime) -> None:
    users.create_user(runtime.ctx, "halfway", PASSWORD)
    session = ResearcherSession(runtime.ctx)
    dialog = UnlockDialog(session, ["halfway"])
    qtbot.addWidget(dialog)
    dialog.password.setText(PASSWORD)
    dialog.try_unlock()
    assert dialog.qr.isVisibleTo(dialog) and not dialog.qr.pixmap().isNull()
    secret = session.enrol_totp().secret  # the same pending secret is shown again
    assert secret in dialog.enrol_hint.text()
    dialog.code.setText(pyotp.TOTP(secret).now())
    dialog.try_unlock()
    assert dialog.result() == QDialog.DialogCode.Accepted and session.mfa_enabled()


def test_kiosk_exit_needs_a_researcher_password(
    qtbot, runtime: AppRuntime, researcher: Researcher
) -> None:
    dialog = KioskExitDialog(runtime.ctx, "study-1", [RESEARCHER])
    qtbot.addWidget(dialog)
    dialog.password.setText("participant guess")
    dialog._check()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.text() and dialog.password.text() == ""
    dialog.password.setText(PASSWORD)
    dialog._check()
    assert dialog.result() == QDialog.DialogCode.Accepted
    actions = _actions(runtime)
    assert ("auth.login", "denied") in actions and ("kiosk.exit", "ok") in actions


def test_kiosk_start_dialog_needs_a_participant(qtbot) -> None:
    dialog = KioskStartDialog(["a", "b"], selected="b")
    qtbot.addWidget(dialog)
    assert dialog.study.currentText() == "b"
    dialog._check()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "participant id" in dialog.error.text()
    dialog.participant.setText("  P-07 ")
    dialog._check()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.values[:2] == ("b", "P-07")


def test_export_dialog_options(qtbot, tmp_path: Path) -> None:
    dialog = ExportDialog("flanker", ["r1"], tmp_path)
    qtbot.addWidget(dialog)
    options = dialog.options()
    assert (options.format, options.out, options.run_ids) == (
        "csv",
        tmp_path / "flanker-export.csv",
        ("r1",),
    )
    assert options.include_participant_ids is False
    dialog.format.setCurrentIndex(dialog.format.findData("zip"))
    assert dialog.options().out == tmp_path / "flanker-export.zip"
