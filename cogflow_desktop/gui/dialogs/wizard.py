"""First run: create the researcher, show the recovery key once, enrol TOTP and prove it."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from cogflow_desktop.gui.dialogs.common import ErrorLabel, code_field, password_field, qr_pixmap
from cogflow_desktop.gui.errors import plain_sentence
from cogflow_desktop.gui.researcher import ResearcherSession
from cogflow_desktop.services import users
from cogflow_desktop.services.errors import ServiceError


class AccountPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Create the researcher account")
        self.setSubTitle(
            "This account protects the results recorded on this computer. "
            "Its password unlocks them; nobody else can read them."
        )
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = password_field("at least 10 characters")
        self.password.setObjectName("password")
        self.repeat = password_field()
        self.repeat.setObjectName("repeat")
        self.error = ErrorLabel()
        form = QFormLayout(self)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("Repeat password", self.repeat)
        form.addRow(self.error)
        self.registerField("username*", self.username)
        self.registerField("password*", self.password)
        # Past this page the account exists: there is no going back to create it again.
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create account")

    def validatePage(self) -> bool:
        if self.password.text() != self.repeat.text():
            self.error.show_error("The two passwords differ.")
            return False
        try:
            self._wizard.create_account(self.username.text().strip(), self.password.text())
        except ServiceError as exc:
            self.error.show_error(plain_sentence(exc))
            return False
        self.error.clear_error()
        return True


class RecoveryPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Save the recovery key")
        self.setSubTitle(
            "If the password is forgotten, this key is the only way to read the results. "
            "It is shown now and never again: print it or store it somewhere safe."
        )
        self.key_text = QPlainTextEdit()
        self.key_text.setObjectName("recoveryKey")
        self.key_text.setReadOnly(True)
        self.key_text.setMaximumHeight(70)
        font = self.key_text.font()
        font.setFamily("monospace")
        font.setPointSize(font.pointSize() + 2)
        self.key_text.setFont(font)
        copy = QPushButton("Copy")
        copy.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.key_text.toPlainText())
        )
        self.saved = QCheckBox("I have saved the recovery key somewhere safe")
        self.saved.setObjectName("savedCheck")
        row = QHBoxLayout()
        row.addWidget(self.key_text, 1)
        row.addWidget(copy)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.saved)
        self.registerField("recoverySaved*", self.saved)

    def initializePage(self) -> None:
        created = self._wizard.created
        self.key_text.setPlainText(created.recovery_key or "" if created else "")


class TotpPage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("Set up two-step verification")
        self.setSubTitle(
            "Scan the code with an authenticator app (for example Aegis, Google Authenticator "
            "or 1Password), then type the 6-digit code it shows. Reading results asks for a code."
        )
        self.qr = QLabel()
        self.qr.setObjectName("qrCode")
        self.secret = QLineEdit()
        self.secret.setObjectName("totpSecret")
        self.secret.setReadOnly(True)
        self.code = code_field()
        self.code.setObjectName("code")
        self.error = ErrorLabel()
        side = QFormLayout()
        side.addRow("Or type this key", self.secret)
        side.addRow("Code", self.code)
        side.addRow(self.error)
        holder = QWidget()
        holder.setLayout(side)
        layout = QHBoxLayout(self)
        layout.addWidget(self.qr)
        layout.addWidget(holder, 1)
        self.registerField("code*", self.code)
        self.secret_value = ""
        # Skipping is a choice made on purpose, never a side effect of Esc.
        self.skip_button = QPushButton("Skip for now…")
        self.skip_button.setObjectName("skipTotp")
        self.skip_button.clicked.connect(wizard.skip_authenticator)
        side.addRow("", self.skip_button)

    def initializePage(self) -> None:
        try:
            setup = self._wizard.session.enrol_totp()
        except ServiceError as exc:
            self.error.show_error(plain_sentence(exc))
            return
        self.secret_value = setup.secret
        self.secret.setText(setup.secret)
        self.qr.setPixmap(qr_pixmap(setup.otpauth_uri))

    def validatePage(self) -> bool:
        try:
            self._wizard.session.verify_code(self.code.text())
        except ServiceError as exc:
            self.error.show_error(
                f"{plain_sentence(exc)} Check the phone's clock and type the current code."
            )
            return False
        return True


class FirstRunWizard(QWizard):
    """Ends with the researcher signed in and MFA-verified, so they can work right away."""

    def __init__(self, session: ResearcherSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunWizard")
        self.session = session
        self.created: users.CreatedUser | None = None
        self.skipped_authenticator = False
        self.setWindowTitle("Welcome to CogFlow Desktop")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.account_page = AccountPage(self)
        self.recovery_page = RecoveryPage(self)
        self.totp_page = TotpPage(self)
        for page in (self.account_page, self.recovery_page, self.totp_page):
            self.addPage(page)
        self.resize(720, 460)

    def create_account(self, username: str, password: str) -> None:
        self.created = users.create_user(self.session.ctx, username, password)
        self.session.sign_in(username, password)

    # -- leaving early -----------------------------------------------------------------------
    def reject(self) -> None:
        """Esc or the close button. Before the account exists nothing is lost; after it, leaving
        skips the recovery key and/or the authenticator, so it must be confirmed."""
        if self.created is None:
            super().reject()
        elif self.currentPage() is self.recovery_page and not self.recovery_page.saved.isChecked():
            if self.confirm(
                "Close without saving the recovery key?",
                "The recovery key is shown only now: without it, a forgotten password means "
                "the results recorded here can never be read. No authenticator will be set up "
                "either (Settings can do that later).",
                "Close anyway",
            ):
                self.skipped_authenticator = True
                super().reject()
        else:
            self.skip_authenticator()

    def skip_authenticator(self) -> bool:
        if not self.confirm(
            "Skip the authenticator?",
            "Without an authenticator, results cannot be read on this computer: decrypting and "
            "exporting ask for its code. You can set it up later in Settings (Set up / replace "
            "authenticator), or when you first decrypt results.",
            "Skip for now",
        ):
            return False
        self.skipped_authenticator = True
        super().reject()
        return True

    def confirm(self, title: str, text: str, yes: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        box.setObjectName("wizardConfirm")
        go = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        back = box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(back)
        box.setEscapeButton(back)
        box.exec()
        return box.clickedButton() is go
