"""Settings: where things are, which screen runs the kiosk, and this launch's server."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from cogflow_desktop import __version__
from cogflow_desktop.gui.logs import log_path
from cogflow_desktop.gui.pages.base import Page
from cogflow_desktop.gui.pages.researchers import ResearchersPanel
from cogflow_desktop.gui.state import AppState


def _selectable(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class SettingsPage(Page):
    title = "Settings"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        settings = state.ctx.settings
        form = QFormLayout()
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
        form.addRow("Run participants on", self.screen)
        open_folder = QPushButton("Open data folder")
        open_folder.setObjectName("openDataFolder")
        open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(settings.data_dir)))
        )
        folder_row = QHBoxLayout()
        folder_row.addWidget(open_folder)
        folder_row.addStretch(1)
        form.addRow("", folder_row)
        self.researchers = ResearchersPanel(state)
        self.layout_.addWidget(self.researchers)
        self.layout_.addStretch(1)

    def _screen_changed(self, index: int) -> None:
        if index >= 0:
            self.state.prefs.kiosk_screen = index
            self.state.save_prefs()
