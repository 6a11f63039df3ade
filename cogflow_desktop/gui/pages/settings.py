"""Settings: where things are, which screen runs the kiosk, and this launch's server."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from cogflow_desktop import __version__
from cogflow_desktop.gui import queries, theme
from cogflow_desktop.gui.dialogs.authenticator import AuthenticatorDialog
from cogflow_desktop.gui.logs import log_path
from cogflow_desktop.gui.pages.base import Page
from cogflow_desktop.gui.pages.hardware import HardwareSection
from cogflow_desktop.gui.pages.researchers import ResearchersPanel
from cogflow_desktop.gui.selftest_window import SelfTestWindow
from cogflow_desktop.gui.state import AppState


def _selectable(text: str) -> QLabel:
    # No word wrap: paths and addresses have no spaces to wrap at, and a wrapping label in a
    # form that keeps fields at their size hint was cut after its first word.
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


class SettingsPage(Page):
    title = "Settings"
    theme_changed = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        settings = state.ctx.settings
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.setVerticalSpacing(theme.SPACE)
        self.layout_.addLayout(form)
        form.addRow("Version", _selectable(__version__))
        form.addRow("Data folder", _selectable(str(settings.data_dir)))
        form.addRow("App log", _selectable(str(log_path(settings.data_dir))))
        form.addRow("Local server", _selectable(f"{state.runtime.url} (this computer only)"))
        origins = ", ".join(settings.extra_origins) or "none (set COGFLOW_ALLOWED_ORIGINS)"
        form.addRow("Dev origins allowed", _selectable(origins))
        form.addRow("Code valid for", _selectable(f"{settings.mfa_reauth_seconds // 60} minutes"))
        self.screen = QComboBox()
        self.screen.setObjectName("kioskScreen")
        for i, screen in enumerate(QGuiApplication.screens()):
            size = screen.geometry()
            self.screen.addItem(f"{i + 1}: {screen.name()} ({size.width()}×{size.height()})")
        self.screen.setCurrentIndex(min(state.prefs.kiosk_screen, self.screen.count() - 1))
        self.screen.currentIndexChanged.connect(self._screen_changed)
        self.theme = QComboBox()
        self.theme.setObjectName("theme")
        for key, label in THEME_LABELS.items():
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(state.prefs.theme)))
        self.theme.currentIndexChanged.connect(self._theme_changed)
        form.addRow("Appearance", self.theme)
        form.addRow("Run participants on", self.screen)
        self.end_seconds = QSpinBox()
        self.end_seconds.setObjectName("kioskEndSeconds")
        self.end_seconds.setRange(0, 600)
        self.end_seconds.setSuffix(" s")
        # 0 reads as what it means: the end screen stays until the experimenter's key.
        self.end_seconds.setSpecialValueText("until Ctrl+Shift+Q")
        self.end_seconds.setValue(state.prefs.kiosk_end_seconds)
        self.end_seconds.valueChanged.connect(self._end_seconds_changed)
        form.addRow("After a run, end screen for", self.end_seconds)
        self.selftest_button = QPushButton("Timing self-test…")
        self.selftest_button.setObjectName("selftestButton")
        self.selftest_button.setToolTip(
            "Flashes a patch for a set number of frames on the participant screen and reports"
            " planned against delivered frames (a photodiode can sit on the corner square)."
        )
        self.selftest_button.clicked.connect(self.open_selftest)
        selftest_row = QHBoxLayout()
        selftest_row.addWidget(self.selftest_button)
        selftest_row.addStretch(1)
        form.addRow("Display timing", selftest_row)
        self.selftest_window: SelfTestWindow | None = None
        open_folder = QPushButton("Open data folder")
        open_folder.setObjectName("openDataFolder")
        open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(settings.data_dir)))
        )
        folder_row = QHBoxLayout()
        folder_row.addWidget(open_folder)
        folder_row.addStretch(1)
        form.addRow("", folder_row)
        self.authenticator_button = QPushButton("Set up / replace authenticator…")
        self.authenticator_button.setObjectName("authenticatorButton")
        self.authenticator_button.clicked.connect(self.open_authenticator)
        auth_row = QHBoxLayout()
        auth_row.addWidget(self.authenticator_button)
        auth_row.addStretch(1)
        form.addRow("Two-step verification", auth_row)
        self.authenticator_dialog: AuthenticatorDialog | None = None
        self.hardware = HardwareSection(state.ctx, self)  # lab hardware (gui/pages/hardware.py)
        self.layout_.addWidget(self.hardware)
        self.researchers = ResearchersPanel(state)
        self.layout_.addWidget(self.researchers)
        self.layout_.addStretch(1)

    def open_selftest(self) -> SelfTestWindow:
        screens = QGuiApplication.screens()
        index = self.state.prefs.kiosk_screen
        screen = screens[index] if 0 <= index < len(screens) else None
        window = SelfTestWindow(self.state.web(), screen)
        window.destroyed.connect(lambda *_: setattr(self, "selftest_window", None))
        self.selftest_window = window
        window.start()
        return window

    def open_authenticator(self) -> AuthenticatorDialog:
        names = queries.usernames(self.state.ctx, self.state.prefs.last_username)
        dialog = AuthenticatorDialog(self.state.session, names, self)
        dialog.accepted.connect(self.state.changed)
        self.authenticator_dialog = dialog
        dialog.open()
        return dialog

    def _theme_changed(self, _index: int) -> None:
        choice = str(self.theme.currentData())
        self.state.prefs.theme = choice
        self.state.save_prefs()
        self.theme_changed.emit(choice)

    def _end_seconds_changed(self, value: int) -> None:
        self.state.prefs.kiosk_end_seconds = value
        self.state.save_prefs()

    def _screen_changed(self, index: int) -> None:
        if index >= 0:
            self.state.prefs.kiosk_screen = index
            self.state.save_prefs()
