"""First run: create the researcher, show the recovery key once, enrol TOTP and prove it."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
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
