"""The timing self-test (/interpreter/selftest) in a full-screen window on the participant screen,
so a lab checks the very display (and, with a photodiode on the corner patch, the very path to
the glass) that participants will use. Esc or Ctrl+Shift+Q closes it; nothing is recorded."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QScreen, QShortcut
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cogflow_desktop.gui.kiosk import EXIT_CHORD, INTERPRETER_PATH
from cogflow_desktop.gui.webviews import WebEnvironment, lock_view

SELFTEST_PATH = f"{INTERPRETER_PATH}selftest"


class SelfTestWindow(QWidget):
    def __init__(self, env: WebEnvironment, screen: QScreen | None = None) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("selftestWindow")
        self.setWindowTitle("CogFlow timing self-test")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.view = QWebEngineView(self)
        self.page = env.kiosk_page(SELFTEST_PATH, self.view)  # it may load nothing else
        self.view.setPage(self.page)
        lock_view(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        if screen is not None:
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
        for chord in ("Esc", EXIT_CHORD):
            shortcut = QShortcut(QKeySequence(chord), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.close)
        self.view.load(env.url(SELFTEST_PATH))

    def start(self) -> None:
        self.showFullScreen()
        self.raise_()
        self.activateWindow()
        self.view.setFocus()
