"""Qt WebChannel bridge: the Interpreter page in the kiosk hands its lab-hardware events
(LSL markers, trigger codes, clock round trips) to the process's MarkerHost.

Why WebChannel and not the local HTTP server: its calls are asynchronous on the page (a message
to the app, answered by a callback), they skip the network stack (shorter, steadier round trips
for the clock), and nothing else on the computer can reach them.

The page needs the QWebChannel class; the app injects Qt's own qwebchannel.js into the page at
document creation (a QWebEngineScript), so the page loads no script from qrc: and needs no
inline script: its Content-Security-Policy stays as strict as it is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from PySide6.QtCore import QFile, QIODevice, QObject, QUrl, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineScript

from cogflow_desktop.gui.webviews import same_origin
from cogflow_desktop.hardware import registry
from cogflow_desktop.hardware.host import MarkerHost, ProtocolError
from cogflow_desktop.services.context import Context

log = logging.getLogger(__name__)
BRIDGE_NAME = "cogflowMarkers"  # the page's channel.objects.cogflowMarkers (markers.js)
QWEBCHANNEL_JS = ":/qtwebchannel/qwebchannel.js"


def _qwebchannel_source() -> str:
    f = QFile(QWEBCHANNEL_JS)
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise RuntimeError(f"Qt's {QWEBCHANNEL_JS} is missing from this Qt build.")
    try:
        return bytes(f.readAll().data()).decode("utf-8")
    finally:
        f.close()


class MarkerBridge(QObject):
    """The object the page calls: one JSON request in, one JSON answer out."""

    def __init__(self, host: MarkerHost, page: QWebEnginePage, origin: QUrl) -> None:
        super().__init__(page)
        self.host = host
        self._page = page
        self._origin = origin

    @Slot(str, result=str)
    def call(self, request: str) -> str:
        # Only our own Interpreter may use it (the kiosk cannot navigate away, but say so here).
        if not same_origin(self._page.url(), self._origin):
            return _error("Only the CogFlow Interpreter may send markers.", 403)
        try:
            message: Any = json.loads(request)
        except ValueError:
            return _error("The marker request is not JSON.", 400)
        try:
            return json.dumps(self.host.handle(message), separators=(",", ":"))
        except ProtocolError as exc:
            return _error(exc.message, exc.status)
        except Exception:  # never let the page hang on a callback that does not come
            log.exception("the marker host failed")
            return _error("The marker host hit an unexpected error.", 500)


def _error(message: str, status: int) -> str:
    return json.dumps({"error": message, "status": status})


def attach_marker_bridge(page: QWebEnginePage, ctx: Context, server_url: str) -> MarkerBridge:
    """Give `page` the bridge (before it loads): a WebChannel with the MarkerHost of `ctx`, and
    the QWebChannel class injected into the page's main world."""
    bridge = MarkerBridge(registry.ensure_host(ctx), page, QUrl(server_url))
    channel = QWebChannel(page)
    channel.registerObject(BRIDGE_NAME, bridge)
    page.setWebChannel(channel)
    script = QWebEngineScript()
    script.setName("cogflow-qwebchannel")
    script.setSourceCode(_qwebchannel_source())
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    script.setRunsOnSubFrames(False)
    page.scripts().insert(script)
    return bridge
