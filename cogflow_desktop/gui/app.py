"""`cogflow-desktop` with no command: start the server, then the window researchers use."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWebEngineWidgets import QWebEngineView  # loaded before the QApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from cogflow_desktop import __version__
from cogflow_desktop.gui.errors import details_of, show_error
from cogflow_desktop.gui.logs import setup_logging
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.runtime import AppRuntime, StartupError, start_runtime
from cogflow_desktop.settings import default_data_dir
from cogflow_desktop.store.backups import DatabaseDamaged

log = logging.getLogger(__name__)
# For the start-up benchmark and the packaging smoke test: print one JSON line once the window
# is usable and the server healthy, open a web view, then quit.
SMOKE_ENV = "COGFLOW_GUI_SMOKE"


def harden_web_engine() -> None:
    """No remote developer tools, whatever the environment says."""
    os.environ.pop("QTWEBENGINE_REMOTE_DEBUGGING", None)
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    kept = [f for f in flags.split() if not f.startswith("--remote-debugging")]
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = " ".join(kept)


def make_application(argv: Sequence[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    harden_web_engine()
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    # Fractional scales (125 %, 150 %) as they are: sharp text and icons on HiDPI screens.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(list(argv))
    app.setApplicationName("CogFlow Desktop")
    app.setOrganizationName("CogFlow")
    app.setApplicationVersion(__version__)
    return app


def run_gui(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    app = make_application(argv if argv is not None else sys.argv[:1])
    data_dir = default_data_dir()
    try:
        setup_logging(data_dir)
        runtime = _start(data_dir)
    except (StartupError, OSError) as exc:
        box = QMessageBox(QMessageBox.Icon.Critical, "CogFlow Desktop cannot start", str(exc))
        box.setDetailedText(details_of(exc))
        box.exec()
        return 1
    if runtime is None:  # the database is damaged and the researcher chose to quit
        return 1
    log.info("CogFlow Desktop %s started, local server %s", __version__, runtime.url)
    window = MainWindow(runtime)
    sys.excepthook = lambda *info: _unexpected(window, info[1])
    window.show()
    if window.needs_first_run():
        window.start_first_run()
    if os.environ.get(SMOKE_ENV):
        _smoke(window, started, runtime.url)
    try:
        code = app.exec()
    finally:
        window.shutdown()
        runtime.stop()
        log.info("CogFlow Desktop stopped")
    return int(code)


def _start(data_dir: Path, start: Callable[[], AppRuntime] | None = None) -> AppRuntime | None:
    """The runtime; with a damaged database, the window that offers the ways on (None: the
    researcher quit)."""
    start = start or (lambda: start_runtime(data_dir))
    try:
        return start()
    except StartupError as exc:
        if _damage_of(exc) is None:
            raise
    # Loaded only now: the window brings the export and sync code the first screen avoids.
    from cogflow_desktop.gui.damaged_database import start_or_recover

    return start_or_recover(data_dir, start, _damage_of)


def _damage_of(exc: BaseException) -> DatabaseDamaged | None:
    return exc.__cause__ if isinstance(exc.__cause__, DatabaseDamaged) else None


def _unexpected(window: MainWindow, exc: BaseException) -> None:
    """A bug in a slot: log it and say so in one sentence; the app keeps running."""
    log.error("Unexpected error", exc_info=exc)
    show_error(window, "Something went wrong", exc)


def _smoke(window: MainWindow, started: float, url: str) -> None:
    def ready() -> None:
        report = {"ready_ms": round((time.perf_counter() - started) * 1000, 1), "url": url}
        print(json.dumps(report), flush=True)
        if window.wizard is not None:
            window.wizard.reject()
        window.open_builder()  # a real web view, so shutdown has a web engine to stop
        QTimer.singleShot(0, lambda: _report_web(window))

    QTimer.singleShot(0, ready)


def _report_web(window: MainWindow) -> None:
    """Load a page of the local server in a real web view and report its renderer's pid."""
    view = window.builder.view or QWebEngineView()
    if view is not window.builder.view:
        view.setPage(window.state.web().app_page(view))
        view.load(window.state.web().url("/portal/"))
        view.resize(400, 300)
        view.show()

    def loaded(ok: bool) -> None:
        pid = view.page().renderProcessPid()
        print(json.dumps({"web_loaded": ok, "render_pid": pid}), flush=True)
        if view is not window.builder.view:
            view.close()
        # Not from inside the page's own signal: shutdown deletes the page.
        QTimer.singleShot(0, window.close)

    view.loadFinished.connect(loaded)
    QTimer.singleShot(30000, window.close)
