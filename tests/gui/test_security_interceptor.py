"""Review finding 3 (app): the web views' request interceptor lets through requests to the app's
own server only. Another origin (here: another loopback port, as good as any host) is never
reached from a page, whatever the page is and whatever its own policy says."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from gui_helpers import WAIT_MS, run_js, wait_js
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineWidgets import QWebEngineView

from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.gui.webviews import WebEnvironment

pytestmark = pytest.mark.gui


@pytest.fixture()
def elsewhere() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<p>elsewhere</p>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


@pytest.fixture()
def env(qtbot, runtime: AppRuntime) -> Iterator[WebEnvironment]:  # type: ignore[no-untyped-def]
    web = WebEnvironment(runtime.ctx.settings.data_dir, runtime.url, runtime.app_token)
    yield web
    web.release()


def test_requests_to_other_origins_are_blocked(
    qtbot, env: WebEnvironment, elsewhere: tuple[str, list[str]]  # type: ignore[no-untyped-def]
) -> None:
    other, seen = elsewhere
    view = QWebEngineView()
    qtbot.addWidget(view)
    page = env.app_page(view)
    view.setPage(page)
    # A page with no policy of its own (set directly, as if CSP were bypassed), whose base is
    # the other origin: images, fetches and frames all try to reach it.
    html = (
        f'<img src="{other}/pixel.gif"><iframe src="{other}/frame"></iframe>'
        f"<script>window.__fetched = null; fetch('{other}/fetch')"
        ".then(() => { window.__fetched = 'reached'; }, () => { window.__fetched = 'blocked'; });"
        "</script>"
    )
    with qtbot.waitSignal(view.loadFinished, timeout=WAIT_MS):
        page.setHtml(html, QUrl(f"{other}/"))
    assert wait_js(qtbot, page, "String(window.__fetched)", lambda v: v != "null") == "blocked"
    # From a page of ours too; our own server is still reached.
    with qtbot.waitSignal(view.loadFinished, timeout=WAIT_MS) as loaded:
        view.load(env.url("/portal/"))
    assert loaded.args == [True]
    run_js(
        qtbot,
        page,
        f"window.__fetched = null; fetch('{other}/from-portal')"
        ".then(() => { window.__fetched = 'reached'; }, () => { window.__fetched = 'blocked'; })",
    )
    assert wait_js(qtbot, page, "String(window.__fetched)", lambda v: v != "null") == "blocked"
    ours = "fetch('/healthz').then((r) => r.status, (e) => String(e))"
    run_js(qtbot, page, f"window.__ours = null; {ours}.then((v) => {{ window.__ours = v; }})")
    assert wait_js(qtbot, page, "String(window.__ours)", lambda v: v != "null") == "200"
    assert seen == [], seen
    assert env.interceptor.blocked >= 2
