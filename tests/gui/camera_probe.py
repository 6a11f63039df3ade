"""Run by test_gui_camera_permission.py in its own process: QtWebEngine reads its Chromium flags
once per process, and only with Chromium's fake camera does a page's camera request reach Qt
on a machine without one. Prints one JSON line: what each page got from getUserMedia."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtWebEngineCore import QWebEnginePage
from PySide6.QtWidgets import QApplication

from cogflow_desktop.gui.camera_permission import allow_camera_for_app
from cogflow_desktop.gui.runtime import start_runtime
from cogflow_desktop.gui.webviews import WebEnvironment

ASK = """window.__cam = 'pending';
navigator.mediaDevices.getUserMedia(%s).then(
  (s) => { window.__cam = 'granted'; s.getTracks().forEach((t) => t.stop()); },
  (e) => { window.__cam = e.name; });"""


def main() -> None:
    app = QApplication(sys.argv[:1])
    data = Path(tempfile.mkdtemp())
    runtime = start_runtime(data, port=0)
    # Another loopback origin. The app's request interceptor refuses to fetch anything from
    # it, so its document is set from here with that origin as its base.
    foreign_url = "http://127.0.0.1:9/"
    env = WebEnvironment(data, runtime.url, runtime.app_token)
    own = env.kiosk_page("/interpreter/")
    foreign = QWebEnginePage(env.profile)  # AppPage would refuse to navigate there at all
    allow_camera_for_app(foreign, runtime.url)  # the same answer, asked from elsewhere
    results: dict[str, str] = {}
    steps = [
        ("own_camera", own, f"{runtime.url}/interpreter/", "{video: true}"),
        ("own_microphone", own, None, "{audio: true}"),
        ("foreign_camera", foreign, foreign_url, "{video: true}"),
    ]

    def run(i: int) -> None:
        if i == len(steps):
            print(json.dumps(results), flush=True)
            env.release()
            runtime.stop()
            app.quit()
            return
        name, page, url, constraints = steps[i]

        def ask(_ok: bool = True) -> None:
            page.runJavaScript(ASK % constraints, 0, lambda _v: QTimer.singleShot(200, poll))

        def poll(tries: int = 0) -> None:
            def got(value: object) -> None:
                if value == "pending" and tries < 100:
                    QTimer.singleShot(100, lambda: poll(tries + 1))
                    return
                results[name] = str(value)
                run(i + 1)

            page.runJavaScript("window.__cam", 0, got)

        if url is None:
            ask()
        else:
            once = {"done": False}

            def loaded(ok: bool) -> None:
                if not once["done"]:
                    once["done"] = True
                    ask(ok)

            page.loadFinished.connect(loaded)
            if page is foreign:
                page.setHtml("<!doctype html><p>another origin</p>", QUrl(url))
            else:
                page.load(QUrl(url))

    QTimer.singleShot(0, lambda: run(0))
    app.exec()


if __name__ == "__main__":
    main()
