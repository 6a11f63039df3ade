"""The one place that configures QtWebEngine: the app's profile (stored under the data folder),
the request interceptor that adds the per-launch app token, page settings, console logging,
and the locked-down kiosk page."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEngineDownloadRequest,
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWidgets import QWidget

from cogflow_desktop.api.web import APP_TOKEN_HEADER
from cogflow_desktop.gui.camera_permission import allow_camera_for_app

log = logging.getLogger("cogflow_desktop.web")
PageT = TypeVar("PageT", bound=QWebEnginePage)
PROFILE_NAME = "cogflow"

_LEVELS = {
    QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel: logging.INFO,
    QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel: logging.WARNING,
    QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel: logging.ERROR,
}


def same_origin(a: QUrl, b: QUrl) -> bool:
    return (a.scheme(), a.host(), a.port()) == (b.scheme(), b.host(), b.port())


# Schemes that never leave the page (inline images, object URLs, empty frames).
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


class AppTokenInterceptor(QWebEngineUrlRequestInterceptor):
    """Every request of every page goes through here: one to our own server gets the app token,
    anything else (another host, another port, file:, ws:) is blocked and logged. So neither a
    study's HTML nor a page that slipped past its Content-Security-Policy can send anything off
    the machine, or to another program on it."""

    def __init__(self, server_url: str, token: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._origin = QUrl(server_url)
        self._header = APP_TOKEN_HEADER.encode()
        self._token = token.encode()
        self.blocked = 0

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        if same_origin(url, self._origin):
            info.setHttpHeader(self._header, self._token)
        elif url.scheme() not in LOCAL_SCHEMES:
            self.blocked += 1
            log.warning("Request to another origin blocked: %s", url.toString())
            info.block(True)


class WebEnvironment(QObject):
    """Owns the profile; create one per app and build every page through it."""

    download_refused = Signal(QUrl)

    def __init__(
        self, data_dir: Path, server_url: str, token: str, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.server_url = server_url.rstrip("/")
        self._pages: set[QWebEnginePage] = set()
        self.profile = QWebEngineProfile(PROFILE_NAME, self)
        storage = data_dir / "webengine"
        storage.mkdir(parents=True, exist_ok=True)
        self.profile.setPersistentStoragePath(str(storage / "storage"))
        self.profile.setCachePath(str(storage / "cache"))
        self.profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.NoCache)
        self.profile.setPersistentCookiesPolicy(
            QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies
        )
        self.profile.setSpellCheckEnabled(False)
        self.interceptor = AppTokenInterceptor(self.server_url, token, self)
        self.profile.setUrlRequestInterceptor(self.interceptor)
        self.profile.downloadRequested.connect(self._on_download)
        settings = self.profile.settings()
        attr = QWebEngineSettings.WebAttribute
        for name, on in (
            (attr.JavascriptEnabled, True),
            (attr.LocalStorageEnabled, True),
            (attr.JavascriptCanOpenWindows, False),
            (attr.LocalContentCanAccessRemoteUrls, False),
            (attr.LocalContentCanAccessFileUrls, False),
            (attr.PluginsEnabled, False),
            (attr.FullScreenSupportEnabled, True),
            (attr.PlaybackRequiresUserGesture, False),  # audio cues must play in the kiosk
            (attr.ErrorPageEnabled, True),
        ):
            settings.setAttribute(name, on)

    def url(self, path: str) -> QUrl:
        return QUrl(f"{self.server_url}/{path.lstrip('/')}")

    def _on_download(self, download: QWebEngineDownloadRequest) -> None:
        """The kiosk never downloads; the Builder may save a study file where the researcher
        chooses (results leave only through the app's own Export)."""
        page = download.page()
        if isinstance(page, KioskPage) or not isinstance(page, AppPage):
            log.info("Download refused: %s", download.url().toString())
            download.cancel()
            self.download_refused.emit(download.url())
            return
        target = self.choose_download_path(download.downloadFileName())
        if target is None:
            download.cancel()
            return
        download.setDownloadDirectory(str(target.parent))
        download.setDownloadFileName(target.name)
        download.accept()

    def choose_download_path(self, suggested: str) -> Path | None:
        """Ask where to save (replaced in tests, which cannot click a native dialog)."""
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(None, "Save file", suggested)
        return Path(path) if path else None

    def app_page(self, parent: QObject | None = None) -> AppPage:
        return self._track(AppPage(self, parent))

    def kiosk_page(self, allowed_path: str, parent: QObject | None = None) -> KioskPage:
        page = self._track(KioskPage(self, allowed_path, parent))
        allow_camera_for_app(page, self.server_url)  # eye tracking: our origin only
        return page

    def _track(self, page: PageT) -> PageT:
        self._pages.add(page)
        page.destroyed.connect(lambda *_: self._pages.discard(page))
        return page

    def release(self) -> None:
        """Delete every page, then the profile, now: QtWebEngine wants pages gone before their
        profile, and deleting both synchronously lets its helper processes end with the app."""
        for page in list(self._pages):
            if shiboken6.isValid(page):
                shiboken6.delete(page)
        self._pages.clear()
        if shiboken6.isValid(self.profile):
            shiboken6.delete(self.profile)


class LinkCatcher(QWebEnginePage):
    """Stands in for a window a page asked to open (a target=_blank link): it reports the
    address and loads nothing, so the app decides what such a link does."""

    caught = Signal(QUrl)

    def acceptNavigationRequest(
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        self.caught.emit(QUrl(url))
        self.deleteLater()
        return False


class AppPage(QWebEnginePage):
    """A page of our own server: console messages to the app log, no navigation elsewhere."""

    navigation_refused = Signal(QUrl)
    # A link meant for a new window (e.g. the Builder's "Run it in the Interpreter").
    window_requested = Signal(QUrl)

    def __init__(self, env: WebEnvironment, parent: QObject | None = None) -> None:
        super().__init__(env.profile, parent)
        self.env = env
        self._origin = QUrl(env.server_url)

    def javaScriptConsoleMessage(
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        log.log(_LEVELS.get(level, logging.INFO), "%s:%s: %s", source, line, message)

    def acceptNavigationRequest(
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        target = QUrl(url)
        if target.scheme() in ("about", "data", "blob") or same_origin(target, self._origin):
            return True
        log.warning("Navigation away from the app refused: %s", target.toString())
        self.navigation_refused.emit(target)
        return False

    def createWindow(self, _type: QWebEnginePage.WebWindowType) -> QWebEnginePage | None:
        # No pop-ups: everything stays in the app's own views; the app hears where it went.
        catcher = self.env._track(LinkCatcher(self.env.profile, self))
        catcher.caught.connect(self.window_requested)
        return catcher


class KioskPage(AppPage):
    """The participant's page: it may only load the Interpreter, and only as first opened."""

    def __init__(self, env: WebEnvironment, allowed_path: str, parent: QObject | None = None):
        super().__init__(env, parent)
        self._allowed_path = allowed_path

    def createWindow(self, _type: QWebEnginePage.WebWindowType) -> QWebEnginePage | None:
        return None  # the participant's page opens nothing

    def acceptNavigationRequest(
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        target = QUrl(url)
        if not is_main_frame:
            return target.scheme() in ("about", "data", "blob")
        allowed = same_origin(target, self._origin) and target.path() == self._allowed_path
        if not allowed:
            log.warning("Kiosk navigation refused: %s", target.toString())
            self.navigation_refused.emit(target)
        return allowed


def lock_view(view: QWidget) -> None:
    """No context menu (so no Inspect, Save, Back)."""
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
