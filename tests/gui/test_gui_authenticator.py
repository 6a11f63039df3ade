"""#12.2: skipping the authenticator is an explicit, confirmed choice; Decrypt then offers the
enrolment; Settings sets up or replaces it (a replacement needs a fresh code or the recovery
key)."""

from __future__ import annotations

import time

import pyotp
import pytest
from gui_helpers import PASSWORD, RESEARCHER, Researcher, click_in_box
from PySide6.QtWidgets import QDialog
from sqlalchemy import select

from cogflow_desktop.gui.dialogs.authenticator import AuthenticatorDialog
from cogflow_desktop.gui.dialogs.unlock import UnlockDialog
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.store.models import AuditEvent

pytestmark = pytest.mark.gui


def _to_totp_page(window: MainWindow):  # type: ignore[no-untyped-def]
    wizard = window.start_first_run()
    wizard.account_page.username.setText("lab-lead")
    wizard.account_page.password.setText(PASSWORD)
    wizard.account_page.repeat.setText(PASSWORD)
    wizard.next()
    wizard.recovery_page.saved.setChecked(True)
    wizard.next()
    assert wizard.currentPage() is wizard.totp_page
    return wizard


def test_esc_on_the_authenticator_page_asks_first_and_decrypt_then_offers_enrolment(
    qtbot, window: MainWindow
) -> None:
    wizard = _to_totp_page(window)
    # Esc (reject) no longer closes it silently: the researcher is asked, and may go back.
    asked = click_in_box("wizardConfirm", "Go back")
    wizard.reject()
    assert asked and "Skip the authenticator" not in asked[0]  # the text explains the cost
    assert "cannot be read" in asked[0]
    assert wizard.isVisible() and wizard.currentPage() is wizard.totp_page
    # Skipping on purpose closes it, and says so.
    click_in_box("wizardConfirm", "Skip for now")
    wizard.totp_page.skip_button.click()
    qtbot.waitUntil(lambda: window.wizard is None)
    assert "No authenticator is set up yet" in window.statusBar().currentMessage()
    session = window.state.session
    assert session.username == "lab-lead" and not session.mfa_enabled()

    # Decrypt asks for a code that cannot exist yet: it offers the enrolment right away.
    dialog = UnlockDialog(session, ["lab-lead"])
    qtbot.addWidget(dialog)
    assert dialog.qr.isVisibleTo(dialog) and not dialog.qr.pixmap().isNull()
    assert dialog.enrol_secret and dialog.enrol_secret in dialog.enrol_hint.text()
    dialog.code.setText(pyotp.TOTP(dialog.enrol_secret).now())
    dialog.try_unlock()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert session.mfa_enabled() and session.can_decrypt()


def test_settings_sets_up_a_first_authenticator(qtbot, window: MainWindow) -> None:
    wizard = _to_totp_page(window)
    click_in_box("wizardConfirm", "Skip for now")
    wizard.reject()
    qtbot.waitUntil(lambda: window.wizard is None)
    window.state.session.sign_out()
    window.show_page(window.settings_page)
    dialog = window.settings_page.open_authenticator()
    assert dialog.username.isVisibleTo(dialog) and not dialog.qr.isVisibleTo(dialog)
    dialog.username.setCurrentText("lab-lead")
    dialog.password.setText(PASSWORD)
    dialog.step()  # signed in; no authenticator yet, so no proof is asked: straight to the QR
    assert dialog.qr.isVisibleTo(dialog) and not dialog.use_recovery.isVisibleTo(dialog)
    dialog.new_code.setText(pyotp.TOTP(dialog.secret.text()).now())
    dialog.step()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert window.state.session.mfa_enabled()


def test_replacing_the_authenticator_needs_a_code_or_the_recovery_key(
    qtbot, window: MainWindow, researcher: Researcher
) -> None:
    session = ResearcherSession(window.state.ctx)
    session.sign_in(RESEARCHER, PASSWORD)
    dialog = AuthenticatorDialog(session, [RESEARCHER])
    qtbot.addWidget(dialog)
    dialog.show()
    # Signed in but not freshly verified: proof is asked before any new secret is shown.
    assert dialog.use_recovery.isVisible() and not dialog.qr.isVisible()
    dialog.step()
    assert "current code" in dialog.error.text() and dialog.setup is None
    dialog.use_recovery.setChecked(True)
    dialog.recovery_key.setText("AAAA-BBBB-CCCC-DDDD")
    dialog.step()
    assert "does not open this installation" in dialog.error.text() and dialog.setup is None
    dialog.recovery_key.setText(researcher.recovery_key)
    dialog.step()
    assert dialog.qr.isVisible() and dialog.setup is not None
    assert "old authenticator works until then" in dialog.intro.text()
    new = pyotp.TOTP(dialog.secret.text())
    dialog.new_code.setText(new.at(time.time() + 30))  # the enrolment used this step's code
    dialog.step()
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.error.text()
    # The old authenticator no longer opens anything; the new one does.
    other = ResearcherSession(window.state.ctx)
    other.sign_in(RESEARCHER, PASSWORD)
    with pytest.raises(Exception, match="Invalid TOTP code"):
        other.verify_code(researcher.totp.at(time.time() + 30))
    with window.state.ctx.read() as s:
        setups = [
            (e.outcome, e.details.get("proof"))
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "mfa.setup"))
        ]
    assert ("denied", "recovery_key") in setups and ("ok", "recovery_key") in setups
