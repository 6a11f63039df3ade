"""Kiosk dialogs: choose what to run and for whom, and the experimenter's way out."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from cogflow_desktop.gui.dialogs.common import ErrorLabel, password_field
from cogflow_desktop.gui.errors import plain_sentence
from cogflow_desktop.gui.researcher import check_exit_password
from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import ServiceError

PARTICIPANT_MAX = 255


class KioskStartDialog(QDialog):
    def __init__(
        self,
        study_slugs: list[str],
        selected: str | None = None,
        screen_index: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kioskStartDialog")
        self.setWindowTitle("Run a participant")
        self.study = QComboBox()
        self.study.setObjectName("study")
        self.study.addItems(study_slugs)
        if selected in study_slugs:
            self.study.setCurrentText(selected)
        self.participant = QLineEdit()
        self.participant.setObjectName("participant")
        self.participant.setMaxLength(PARTICIPANT_MAX)
        self.participant.setPlaceholderText("as written on the participant's sheet")
        self.screen = QComboBox()
        self.screen.setObjectName("screen")
        for i, screen in enumerate(QGuiApplication.screens()):
            size = screen.geometry()
            self.screen.addItem(f"{i + 1}: {screen.name()} ({size.width()}×{size.height()})")
        if 0 <= screen_index < self.screen.count():
            self.screen.setCurrentIndex(screen_index)
        self.error = ErrorLabel()
        hint = QLabel(
            "The experiment opens full-screen. To leave it early, press Ctrl+Shift+Q: the run "
            "pauses, and a researcher's password ends it (saved as failed, with what was "
            "collected). After the last trial the end screen closes by itself or on "
            "Ctrl+Shift+Q, as set in Settings."
        )
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Study", self.study)
        form.addRow("Participant id", self.participant)
        form.addRow("Screen", self.screen)
        form.addRow(hint)
        form.addRow(self.error)
        form.addRow(buttons)

    def _check(self) -> None:
        if not self.study.currentText():
            self.error.show_error("Publish or import a study first.")
        elif not self.participant.text().strip():
            self.error.show_error("Type the participant id.")
        else:
            self.accept()

    @property
    def values(self) -> tuple[str, str, int]:
        return (
            self.study.currentText(),
            self.participant.text().strip(),
            max(0, self.screen.currentIndex()),
        )


class KioskExitDialog(QDialog):
    """Accepted only with a researcher's correct password (throttled and audited)."""

    def __init__(
        self,
        ctx: Context,
        study_slug: str,
        usernames: list[str],
        parent: QWidget | None = None,
        intro: str = "Ending now saves this run as failed, with every response collected so far.",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("kioskExitDialog")
        self.setWindowTitle("End this run")
        self._ctx = ctx
        self._slug = study_slug
        self.username = QComboBox()
        self.username.setObjectName("username")
        self.username.setEditable(True)
        self.username.addItems(usernames)
        self.password = password_field()
        self.password.setObjectName("password")
        self.error = ErrorLabel()
        self.intro = QLabel(intro)
        self.intro.setObjectName("intro")
        self.intro.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("End the run")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.intro)
        form.addRow("Researcher", self.username)
        form.addRow("Password", self.password)
        form.addRow(self.error)
        form.addRow(buttons)

    def _check(self) -> None:
        try:
            check_exit_password(
                self._ctx, self.username.currentText().strip(), self.password.text(), self._slug
            )
        except ServiceError as exc:
            self.error.show_error(plain_sentence(exc))
            self.password.clear()
            return
        self.accept()
