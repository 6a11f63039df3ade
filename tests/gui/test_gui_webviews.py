"""The web views' configuration: the app token on our server's requests only, console to the
log, no navigation away, no downloads, no context menu."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import WAIT_MS, run_js, wait_js
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWebEngineWidgets import QWebEngineView

from cogflow_desktop.gui.logs import log_path
from cogflow_desktop.gui.runtime import AppRuntime
from cogflow_desktop.gui.webviews import WebEnvironment, lock_view, same_origin
from cogflow_desktop.services import studies

pytestmark = pytest.mark.gui

PUBLISH_JS = """
window.__answer = null;
fetch('/api/v1/configs/publish', {method: 'POST', headers: {'Content-Type': 'application/json'},
  body: JSON.stringify({study_slug: 'from-page', study_name: 'From page',
                        config_version_label: 'v1', config: {timeline: []}})})
  .then(r => { window.__answer = r.status; }, e => { window.__answer = String(e); });
"""


@pytest.fixture()
def env(qtbot, runtime: AppRuntime) -> Iterator[WebEnvironment]:  # type: ignore[no-untyped-def]
    web = WebEnvironment(runtime.ctx.settings.data_dir, runtime.url, runtime.app_token)
    yield web
    web.release()


def _view(qtbot: Any, env: WebEnvironment, path: str, kiosk: str | None = None) -> QWebEngineView:
    view = QWebEngineView()
    qtbot.addWidget(view)
    page = env.kiosk_page(kiosk, view) if kiosk else env.app_page(view)
    view.setPage(page)
    lock_view(view)
    with qtbot.waitSignal(view.loadFinished, timeout=WAIT_MS) as blocker:
        view.load(env.url(path))
    assert blocker.args == [True]
    return view


def test_page_writes_carry_the_app_token(qtbot, env: WebEnvironment, runtime: AppRuntime) -> None:
    view = _view(qtbot, env, "/portal/")
    run_js(qtbot, view.page(), PUBLISH_JS)
    answer = wait_js(qtbot, view.page(), "String(window.__answer)", lambda v: v != "null")
    assert answer == "201"
    assert studies.latest_config(runtime.ctx, "from-page")["config_version_label"] == "v1"


def test_console_messages_reach_the_app_log(
    qtbot, env: WebEnvironment, runtime: AppRuntime
) -> None:
    data_dir = runtime.ctx.settings.data_dir
    assert env.profile.storageName() == "cogflow" and not env.profile.isOffTheRecord()
    assert Path(env.profile.persistentStoragePath()).is_relative_to(data_dir / "webengine")
    view = _view(qtbot, env, "/portal/")
    run_js(qtbot, view.page(), "console.error('marker-7f3a from the page')")
    log_file = log_path(runtime.ctx.settings.data_dir)
    qtbot.waitUntil(
        lambda: "marker-7f3a from the page" in log_file.read_text(encoding="utf-8"),
        timeout=WAIT_MS,
    )


def test_app_pages_do_not_navigate_away(qtbot, env: WebEnvironment) -> None:
    view = _view(qtbot, env, "/portal/")
    assert view.contextMenuPolicy() == Qt.ContextMenuPolicy.NoContextMenu
    with qtbot.waitSignal(view.page().navigation_refused, timeout=WAIT_MS) as blocker:
        run_js(qtbot, view.page(), "location.href = 'https://example.org/'")
    assert blocker.args[0].host() == "example.org"
    assert view.url().path() == "/portal/"


def test_kiosk_page_stays_on_the_interpreter(qtbot, env: WebEnvironment) -> None:
    view = _view(qtbot, env, "/interpreter/?study=none", kiosk="/interpreter/")
    with qtbot.waitSignal(view.page().navigation_refused, timeout=WAIT_MS) as blocker:
        run_js(qtbot, view.page(), "location.href = '/portal/'")
    assert blocker.args[0].path() == "/portal/"
    assert view.url().path() == "/interpreter/"


DOWNLOAD_JS = (
    "const a = document.createElement('a');"
    "a.href = URL.createObjectURL(new Blob(['study file'], {type: 'application/json'}));"
    "a.download = 'study.json'; document.body.appendChild(a); a.click();"
)


def test_kiosk_downloads_are_refused(qtbot, env: WebEnvironment, tmp_path: Path) -> None:
    asked: list[str] = []
    env.choose_download_path = lambda name: asked.append(name) or tmp_path / name  # type: ignore[method-assign]
    view = _view(qtbot, env, "/interpreter/?study=none", kiosk="/interpreter/")
    with qtbot.waitSignal(env.download_refused, timeout=WAIT_MS):
        run_js(qtbot, view.page(), DOWNLOAD_JS)
    assert asked == [] and not any(tmp_path.rglob("study.json"))


def test_builder_pages_save_files_where_asked(qtbot, env: WebEnvironment, tmp_path: Path) -> None:
    target = tmp_path / "chosen" / "my-study.json"
    target.parent.mkdir()
    env.choose_download_path = lambda _name: target  # type: ignore[method-assign]
    view = _view(qtbot, env, "/portal/")
    run_js(qtbot, view.page(), DOWNLOAD_JS)
    qtbot.waitUntil(target.is_file, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: target.read_text(encoding="utf-8") == "study file", timeout=WAIT_MS)


def test_same_origin_is_exact() -> None:
    base = QUrl("http://127.0.0.1:8000")
    assert same_origin(QUrl("http://127.0.0.1:8000/api/v1/x"), base)
    assert not same_origin(QUrl("http://127.0.0.1:8001/api/v1/x"), base)
    assert not same_origin(QUrl("http://localhost:8000/"), base)
    assert not same_origin(QUrl("https://127.0.0.1:8000/"), base)
