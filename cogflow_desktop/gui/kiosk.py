"""The participant's window: the Interpreter full-screen, locked down, left only through a
key chord plus a researcher's password (which ends the run as failed, keeping its data)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QScreen, QShortcut
from PySide6.QtWebEngineCore import QWebEngineFullScreenRequest
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cogflow_desktop.gui.dialogs.kiosk import KioskExitDialog
from cogflow_desktop.gui.marker_bridge import attach_marker_bridge
from cogflow_desktop.gui.webviews import WebEnvironment, lock_view
from cogflow_desktop.services.context import Context

log = logging.getLogger(__name__)
INTERPRETER_PATH = "/interpreter/"
# Ctrl+Shift+Q on Windows and Linux; Qt maps Ctrl to Command on macOS.
EXIT_CHORD = "Ctrl+Shift+Q"
# How long the page may take to submit the aborted run before the window closes anyway
# (its checkpoints are already durable; the run then shows as interrupted).
ABORT_WAIT_MS = 20000
POLL_MS = 200

ABORT_JS = (
    "(typeof window.cogflowAbort === 'function') ? "
    "Boolean(window.cogflowAbort('experimenter_abort')) : false"
)
RESULT_JS = "window.cogflowResult ? JSON.stringify(window.cogflowResult) : ''"


def interpreter_query(study_slug: str, participant_id: str) -> str:
    return f"{INTERPRETER_PATH}?{urlencode({'study': study_slug, 'participant': participant_id})}"


class KioskWindow(QWidget):
    ended = Signal(object)  # dict: {"aborted": bool, "result": {...} | None}

    def __init__(
        self,
        env: WebEnvironment,
        ctx: Context,
        study_slug: str,
        participant_id: str,
        usernames: list[str],
        screen: QScreen | None = None,
    ) -> None:
        super().__init__(
            None,
            Qt.WindowType.Window
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint,
        )
        self.setObjectName("kioskWindow")
        self.setWindowTitle("CogFlow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._ctx = ctx
        self._usernames = usernames
        self.study_slug = study_slug
        self._may_close = False
        self._aborted = False
        self._waited_ms = 0
        self.exit_dialog: KioskExitDialog | None = None
        self.view = QWebEngineView(self)
        self.page = env.kiosk_page(INTERPRETER_PATH, self.view)
        attach_marker_bridge(self.page, ctx, env.server_url)  # LSL markers, triggers
        self.view.setPage(self.page)
        lock_view(self.view)
        self.page.fullScreenRequested.connect(self._on_fullscreen_request)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        if screen is not None:
            self.setScreen(screen)
            self.setGeometry(screen.geometry())
        # A window shortcut is matched before the key reaches the page, so the Interpreter
        # never sees the chord. (An application-wide event filter would also work, but
        # wrapping every QtWebEngine internal object for Python crashes PySide.)
        self.exit_shortcut = QShortcut(QKeySequence(EXIT_CHORD), self)
        self.exit_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.exit_shortcut.setAutoRepeat(False)
        self.exit_shortcut.activated.connect(self.request_exit)
        self.view.load(env.url(interpreter_query(study_slug, participant_id)))

    def start(self) -> None:
        self.showFullScreen()
        self.raise_()
        self.activateWindow()
        self.view.setFocus()

    # -- the way out -------------------------------------------------------------------------
    def request_exit(self) -> None:
        if self.exit_dialog is not None or self._aborted:
            return
        dialog = KioskExitDialog(self._ctx, self.study_slug, self._usernames, self)
        dialog.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        dialog.accepted.connect(self.abort_run)
        dialog.finished.connect(lambda _r: setattr(self, "exit_dialog", None))
        self.exit_dialog = dialog
        dialog.open()

    def abort_run(self) -> None:
        """Ask the page to submit the run as failed, then close once it has answered."""
        self._aborted = True
        self.page.runJavaScript(ABORT_JS, 0, self._after_abort)

    def _after_abort(self, started: Any) -> None:
        if not started:
            self._finish(None)  # no run in progress (finished, or never started)
            return
        self._waited_ms = 0
        self._poll_result()

    def _poll_result(self) -> None:
        self.page.runJavaScript(RESULT_JS, 0, self._on_result)

    def _on_result(self, raw: Any) -> None:
        if raw:
            self._finish(json.loads(raw))
            return
        self._waited_ms += POLL_MS
        if self._waited_ms >= ABORT_WAIT_MS:
            log.warning("The aborted run was not confirmed in time; it stays interrupted.")
            self._finish(None)
            return
        QTimer.singleShot(POLL_MS, self._poll_result)

    def _finish(self, result: dict[str, Any] | None) -> None:
        self.ended.emit({"aborted": self._aborted, "result": result})
        self.force_close()

    def force_close(self) -> None:
        """Close without asking (the app is quitting): an unfinished run stays interrupted."""
        self._may_close = True
        self.close()

    # -- participants cannot close or escape it ----------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            self.view.stop()
            event.accept()
        else:
            event.ignore()

    def _on_fullscreen_request(self, request: QWebEngineFullScreenRequest) -> None:
        request.accept()  # the window is full-screen anyway; leaving it is the app's call
