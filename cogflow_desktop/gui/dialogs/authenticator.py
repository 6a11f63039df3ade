"""Set up or replace the signed-in researcher's authenticator (Settings, and after a skipped
first-run step). A first set-up needs the password; a replacement also needs a current code
from the old authenticator or, when it is lost, the recovery key."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)

from cogflow_desktop.gui.dialogs.common import ErrorLabel, code_field, password_field, qr_pixmap
from cogflow_desktop.gui.errors import plain_sentence
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.services.auth import TotpSetup
from cogflow_desktop.services.errors import ServiceError


class AuthenticatorDialog(QDialog):
    def __init__(
        self, session: ResearcherSession, usernames: list[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("authenticatorDialog")
        self.setWindowTitle("Set up or replace the authenticator")
        self.setMinimumWidth(480)
        self.session = session
        self.setup: TotpSetup | None = None
        self.replacing = False
        self.intro = QLabel()
        self.intro.setObjectName("intro")
        self.intro.setWordWrap(True)
        self.username = QComboBox()
        self.username.setObjectName("username")
        self.username.setEditable(True)
        self.username.addItems(usernames)
        self.password = password_field()
        self.password.setObjectName("password")
        self.use_code = QRadioButton("A code from my current authenticator")
        self.use_code.setObjectName("useCode")
        self.use_code.setChecked(True)
        self.old_code = code_field()
        self.old_code.setObjectName("oldCode")
        self.use_recovery = QRadioButton("The recovery key (the old authenticator is lost)")
        self.use_recovery.setObjectName("useRecovery")
        self.recovery_key = QLineEdit()
        self.recovery_key.setObjectName("recoveryKey")
        self.recovery_key.setPlaceholderText("as saved when this installation was set up")
        self.qr = QLabel()
        self.qr.setObjectName("qrCode")
        self.secret = QLineEdit()
        self.secret.setObjectName("totpSecret")
        self.secret.setReadOnly(True)
        self.new_code = code_field()
        self.new_code.setObjectName("newCode")
        self.error = ErrorLabel()
        self.form = QFormLayout(self)
        self.form.addRow(self.intro)
        self.form.addRow("Username", self.username)
        self.form.addRow("Password", self.password)
        self.form.addRow(self.use_code)
        self.form.addRow("Current code", self.old_code)
        self.form.addRow(self.use_recovery)
        self.form.addRow("Recovery key", self.recovery_key)
        self.form.addRow(self.qr)
        self.form.addRow("Or type this key", self.secret)
        self.form.addRow("Code from the new app", self.new_code)
        self.form.addRow(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.continue_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.continue_button.setText("Continue")
        self.buttons.accepted.connect(self.step)
        self.buttons.rejected.connect(self.reject)
        self.form.addRow(self.buttons)
        self._show_step()

    # -- which fields the current step needs -------------------------------------------------
    def _rows(self, widgets: tuple[QWidget, ...], on: bool) -> None:
        for widget in widgets:
            self.form.setRowVisible(widget, on)

    def _show_step(self) -> None:
        signed_in = self.session.username is not None
        enrolling = self.setup is not None
        proving = signed_in and not enrolling and self._needs_proof()
        self._rows((self.username, self.password), not signed_in)
        self._rows((self.use_code, self.old_code, self.use_recovery, self.recovery_key), proving)
        self._rows((self.qr, self.secret, self.new_code), enrolling)
        if not signed_in:
            self.intro.setText("Sign in with your password first.")
        elif enrolling:
            self.intro.setText(
                "Scan this code with an authenticator app (for example Aegis, Google "
                "Authenticator or 1Password), then type the 6-digit code it shows."
                + (" The old authenticator works until then." if self.replacing else "")
            )
            self.continue_button.setText("Finish")
        elif proving:
            self.intro.setText(
                f"{self.session.username} already has an authenticator. Replacing it needs a "
                "current code from it or, if it is lost, the recovery key."
            )
        else:
            self.intro.setText("Continue to see the code to scan.")

    def _needs_proof(self) -> bool:
        return self.session.mfa_enabled() and not self.session.can_decrypt()

    # -- one step per Continue ---------------------------------------------------------------
    def step(self) -> None:
        try:
            if self.session.username is None:
                self.session.sign_in(self.username.currentText().strip(), self.password.text())
                self.password.clear()
                if not self._needs_proof() and not self._begin():
                    return
            elif self.setup is None:
                if not self._begin():
                    return
            else:
                code = self.new_code.text().strip()
                if not code:
                    self.error.show_error("Type the 6-digit code the new app shows.")
                    return
                self.session.verify_code(code)
                self.accept()
                return
        except ServiceError as exc:
            sentence = plain_sentence(exc)
            if self.setup is not None and self.replacing:
                sentence += (
                    " Codes change every 30 seconds; right after using the old app, wait for "
                    "the new app's next code."
                )
            self.error.show_error(sentence)
            self.new_code.clear()
            self.old_code.clear()
            return
        self.error.clear_error()
        self._show_step()

    def _begin(self) -> bool:
        """Ask for the new secret: a first one, or a replacement proven as the step requires."""
        self.replacing = self.session.mfa_enabled()
        if not self.replacing:
            self.setup = self.session.enrol_totp()
        elif not self._needs_proof():
            self.setup = self.session.enrol_totp(regenerate=True)
        elif self.use_recovery.isChecked():
            if not self.recovery_key.text().strip():
                self.error.show_error("Type the recovery key.")
                return False
            self.setup = self.session.replace_totp_with_recovery_key(self.recovery_key.text())
        else:
            if not self.old_code.text().strip():
                self.error.show_error("Type a current code from your authenticator app.")
                return False
            self.session.verify_code(self.old_code.text())
            self.setup = self.session.enrol_totp(regenerate=True)
        self.recovery_key.clear()
        self.secret.setText(self.setup.secret)
        self.qr.setPixmap(qr_pixmap(self.setup.otpauth_uri, scale=4))
        return True
