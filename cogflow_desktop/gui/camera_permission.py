"""Camera access for eye tracking: granted to the Interpreter's own origin only.

QtWebEngine asks the host application before a page may open a camera or microphone. The
participant's page (the Interpreter, served by the app's own loopback server) may use the camera
when a study records eye tracking; nothing else may: not another origin (a navigation there is
refused anyway), not the microphone, not screen capture. The grant lasts as long as the page;
nothing is stored across launches.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QUrl
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEnginePermission, QWebEngineProfile

log = logging.getLogger(__name__)

CAMERA = QWebEnginePermission.PermissionType.MediaVideoCapture


def same_origin(a: QUrl, b: QUrl) -> bool:
    return (a.scheme(), a.host(), a.port()) == (b.scheme(), b.host(), b.port())


def camera_allowed(kind: QWebEnginePermission.PermissionType, origin: QUrl, app: QUrl) -> bool:
    """True only for the camera alone, asked by a page of the app's own server."""
    return kind == CAMERA and same_origin(origin, app)


class CameraPermission(QObject):
    """Answers a page's permission requests: the camera for the app's origin, nothing else."""

    def __init__(self, page: QWebEnginePage, app_url: str) -> None:
        super().__init__(page)
        self._app = QUrl(app_url)
        page.permissionRequested.connect(self.answer)

    def answer(self, permission: QWebEnginePermission) -> None:
        kind, origin = permission.permissionType(), permission.origin()
        if camera_allowed(kind, origin, self._app):
            log.info("Camera granted to %s (eye tracking)", origin.toString())
            permission.grant()
        else:
            log.warning("Permission %s refused to %s", kind.name, origin.toString())
            permission.deny()


def allow_camera_for_app(page: QWebEnginePage, app_url: str) -> CameraPermission:
    """Installs the answer on `page` (kept alive as the page's child). Decisions are not kept
    on disk: each launch asks again, so a grant never outlives the page that got it."""
    page.profile().setPersistentPermissionsPolicy(
        QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime
    )
    return CameraPermission(page, app_url)
