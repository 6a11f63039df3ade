"""Sign in and prove a TOTP code, as much of it as is still needed (password when the install
key is locked, a code when the last verification has expired, enrolment if never finished)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QWidget,
)

from cogflow_desktop.gui.dialogs.common import ErrorLabel, code_field, password_field, qr_pixmap
from cogflow_desktop.gui.errors import plain_sentence
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.services.errors import ServiceError


class UnlockDialog(QDialog):
    def __init__(
        self,
        session: ResearcherSession,
        usernames: list[str],
        purpose: str = "Reading results needs your password and a code.",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("unlockDialog")
        self.setWindowTitle("Unlock results")
        self.setMinimumWidth(420)
        self.session = session
        signed_in = session.username
        self.intro = QLabel(purpose)
        self.intro.setWordWrap(True)
        self.username = QComboBox()
        self.username.setObjectName("username")
        self.username.setEditable(True)
        self.username.addItems(usernames)
        self.password = password_field()
        self.password.setObjectName("password")
        self.code = code_field()
        self.code.setObjectName("code")
        self.qr = QLabel()
        self.qr.setObjectName("qrCode")
        self.qr.hide()
        self.enrol_hint = QLabel()
        self.enrol_hint.setWordWrap(True)
        self.enrol_hint.hide()
        self.error = ErrorLabel()
        self.enrol_secret = ""
        form = QFormLayout(self)
        form.addRow(self.intro)
        if signed_in is None:
            form.addRow("Username", self.username)
            form.addRow("Password", self.password)
        else:
            form.addRow(QLabel(f"Signed in as {signed_in}."))
        form.addRow(self.qr)
        form.addRow(self.enrol_hint)
        form.addRow("Code", self.code)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Unlock")
        buttons.accepted.connect(self.try_unlock)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._needs_password = signed_in is None
        if signed_in is not None and not session.mfa_enabled():
            self._show_enrolment()  # a code cannot exist yet: offer the enrolment right away

    @property
    def needs_password(self) -> bool:
        return self._needs_password

    def try_unlock(self) -> None:
        """Each step that succeeds is kept, so a wrong code does not ask for the password again."""
        try:
            if self._needs_password:
                enrolled = self.session.sign_in(
                    self.username.currentText().strip(), self.password.text()
                )
                self._needs_password = False
                self.username.setEnabled(False)
                self.password.setEnabled(False)
                if not enrolled:
                    self._show_enrolment()
                    if not self.code.text().strip():
                        return
            if not self.code.text().strip():
                self.error.show_error("Type the 6-digit code from your authenticator app.")
                return
            self.session.verify_code(self.code.text())
        except ServiceError as exc:
            self.error.show_error(plain_sentence(exc))
            self.code.clear()
            return
        self.accept()

    def _show_enrolment(self) -> None:
        setup = self.session.enrol_totp()
        self.qr.setPixmap(qr_pixmap(setup.otpauth_uri, scale=4))
        self.qr.show()
        self.enrol_hint.setText(
            "No authenticator is set up for this account yet: scan this code with an "
            f"authenticator app (or type the key {setup.secret}) and enter the code it shows."
        )
        self.enrol_secret = setup.secret
        self.enrol_hint.show()


def ensure_unlocked(parent: QWidget | None, session: ResearcherSession, names: list[str]) -> bool:
    """True when results may be read now, asking for whatever is missing first."""
    if session.can_decrypt():
        return True
    dialog = UnlockDialog(session, names, parent=parent)
    return dialog.exec() == QDialog.DialogCode.Accepted
