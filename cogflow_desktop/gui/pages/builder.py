"""Builder: the CogFlow Builder web app in a web view on the embedded server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QLabel, QWidget

from cogflow_desktop.gui.pages.base import Page
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.webviews import lock_view

BUILDER_PATH = "/builder/"
INTERPRETER_PATH = "/interpreter/"


def builder_path(study_slug: str | None) -> str:
    return f"{BUILDER_PATH}?{urlencode({'study': study_slug})}" if study_slug else BUILDER_PATH


def study_to_run(url: QUrl, server_url: str) -> str | None:
    """The study slug of a link to the Interpreter on our own server, else None."""
    if not url.toString().startswith(server_url.rstrip("/") + INTERPRETER_PATH):
        return None
    slugs = parse_qs(url.query()).get("study") or []
    return slugs[0] if slugs and slugs[0] else None


class BuilderPage(Page):
    title = "Builder"
    # The Builder's "Run it in the Interpreter": the app opens its kiosk dialog instead.
    run_study = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.view: QWebEngineView | None = None
        self.missing = QLabel(
            "The Builder is not part of this installation (resources/builder is missing)."
        )
        self.missing.setObjectName("builderMissing")
        self.missing.setWordWrap(True)
        self.layout_.addWidget(self.missing)
        self._pending: str | None = BUILDER_PATH

    @property
    def installed(self) -> bool:
        return (self.state.ctx.settings.resources / "builder" / "index.html").is_file()

    def _ensure_view(self) -> QWebEngineView:
        # Made on first show: Chromium's start-up cost is paid only when the Builder is used.
        if self.view is None:
            self.view = QWebEngineView(self)
            self.view.setObjectName("builderView")
            page = self.state.web().app_page(self.view)
            page.window_requested.connect(self._link_opened)
            self.view.setPage(page)
            lock_view(self.view)
            self.layout_.addWidget(self.view, 1)
        return self.view

    def open_study(self, study_slug: str | None) -> None:
        self._pending = builder_path(study_slug)
        if self.isVisible():
            self.shown()

    def shown(self) -> None:
        self.missing.setVisible(not self.installed)
        if not self.installed or self._pending is None:
            return
        view = self._ensure_view()
        view.load(self.state.web().url(self._pending))
        self._pending = None

    def _link_opened(self, url: QUrl) -> None:
        slug = study_to_run(url, self.state.runtime.url)
        if slug is not None:
            self.run_study.emit(slug)

    def release(self) -> None:
        """Drop the view (and its page) before the web profile goes away at shutdown."""
        if self.view is not None:
            self.view.setParent(None)
            self.view.deleteLater()
            self.view = None
