"""`cogflow-desktop` with no command: the window researchers use, shown as soon as Qt is up,
while the data folder opens and the local server starts beside it (gui/startup.py).

Only Qt and the window's frame are imported before the window shows; the database and server
layers load on the worker thread, the pages once the data folder is open."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWebEngineWidgets import QWebEngineView  # loaded before the QApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from cogflow_desktop import __version__
from cogflow_desktop.gui.logs import setup_logging
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.prefs import Prefs
from cogflow_desktop.gui.startup import BackgroundStart, open_runtime
from cogflow_desktop.settings import default_data_dir

if TYPE_CHECKING:
    from cogflow_desktop.gui.runtime import AppRuntime
    from cogflow_desktop.store.backups import DatabaseDamaged

log = logging.getLogger(__name__)
# For the start-up benchmark and the packaging smoke test: print one JSON line once the window
# answers, one once the data folder is open and the first screen filled, open a web view, quit.
SMOKE_ENV = "COGFLOW_GUI_SMOKE"
CANNOT_START = "CogFlow Desktop cannot start"


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


@dataclass
class Launch:
    """The shown window and the start still running beside it."""

    window: MainWindow
    start: BackgroundStart
    started: float  # perf_counter() at launch, for the smoke report
    # A runtime started on the GUI thread after a damaged database was restored.
    recovered: AppRuntime | None = None


def launch(
    data_dir: Path, port: int | None = None, started: float | None = None, begin: bool = True
) -> Launch:
    """Show the window, then open the data folder on a worker thread (`begin=False`: the
    caller calls `start.begin()` once it has connected its own slots). Returns at once: the
    window is attached to the runtime, or says why it cannot start, from the event loop."""
    window = MainWindow(theme_choice=Prefs.load(data_dir).theme)
    window.show()
    start = BackgroundStart(lambda: open_runtime(data_dir, port), window)
    launched = Launch(window, start, time.perf_counter() if started is None else started)
    queued = Qt.ConnectionType.QueuedConnection
    start.ready.connect(lambda runtime: _opened(window, runtime), queued)
    start.failed.connect(
        lambda exc: _start_failed(launched, exc, data_dir, lambda: open_runtime(data_dir, port)),
        queued,
    )
    if begin:
        start.begin()
    return launched


def _opened(window: MainWindow, runtime: AppRuntime) -> None:
    if window.is_shut_down:  # closed while it opened: run_gui stops the runtime
        return
    log.info("CogFlow Desktop %s started, local server %s", __version__, runtime.url)
    try:
        window.attach(runtime)
        if window.needs_first_run():
            window.start_first_run()
    except Exception as exc:
        startup_failed(window, exc)


def _start_failed(
    launched: Launch, exc: BaseException, data_dir: Path, start: Callable[[], AppRuntime]
) -> None:
    """The worker's start failed: a damaged database opens the window that offers the ways on
    (restore a backup, salvage, quit); anything else is said in one sentence."""
    window = launched.window
    if _damage_of(exc) is None:
        startup_failed(window, exc)
        return
    try:
        runtime = _start(data_dir, start, failure=exc)
    except Exception as again:
        startup_failed(window, again)
        return
    if runtime is None:  # the researcher chose to quit
        _quit(1)
        return
    launched.recovered = runtime
    _opened(window, runtime)


def _start(
    data_dir: Path, start: Callable[[], AppRuntime], failure: BaseException | None = None
) -> AppRuntime | None:
    """The runtime; with a damaged database, the window that offers the ways on (None: the
    researcher quit). `failure`: how a start already tried elsewhere failed."""
    if failure is None:
        try:
            return start()
        except Exception as exc:
            failure = exc
    if _damage_of(failure) is None:
        raise failure
    # Loaded only now: the window brings the export and sync code the first screen avoids.
    from cogflow_desktop.gui.damaged_database import start_or_recover

    pending = [failure]  # start_or_recover starts by trying: give it the known failure once

    def again() -> AppRuntime:
        if pending:
            raise pending.pop()
        return start()

    return start_or_recover(data_dir, again, _damage_of)


def _damage_of(exc: BaseException) -> DatabaseDamaged | None:
    from cogflow_desktop.store.backups import DatabaseDamaged

    return exc.__cause__ if isinstance(exc.__cause__, DatabaseDamaged) else None


def startup_failed(window: MainWindow, exc: BaseException) -> QMessageBox:
    """The data folder could not be opened or the server not started: the reason in one
    sentence over the window, and the app quits (status 1) once it is read.

    A damaged database arrives here as a StartupError whose __cause__ is
    store.backups.DatabaseDamaged (its sentence names the newest good backup)."""
    from cogflow_desktop.gui.errors import details_of, plain_sentence

    window.show_startup_failure()
    box = QMessageBox(QMessageBox.Icon.Critical, CANNOT_START, plain_sentence(exc), parent=window)
    box.setObjectName("startupFailedBox")
    box.setDetailedText(details_of(exc))
    box.finished.connect(lambda _r: _quit(1))
    box.open()
    return box


def _quit(code: int) -> None:
    app = QApplication.instance()
    if app is not None:
        app.exit(code)


def run_gui(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    app = make_application(argv if argv is not None else sys.argv[:1])
    data_dir = default_data_dir()
    try:
        setup_logging(data_dir)
    except OSError as exc:  # before any window: the data folder cannot even hold a log
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            CANNOT_START,
            f"The data folder {data_dir} could not be used: {exc.strerror or exc}.",
        )
        box.exec()
        return 1
    launched = launch(data_dir, started=started, begin=False)
    window = launched.window
    sys.excepthook = lambda *info: _unexpected(window, info[1])
    if os.environ.get(SMOKE_ENV):
        _smoke(launched)
    launched.start.begin()
    try:
        code = app.exec()
    finally:
        window.shutdown()
        # Quit while the folder was still opening: wait for it, then close it properly.
        runtime = launched.start.wait() or launched.recovered
        if runtime is not None:
            runtime.stop()
        log.info("CogFlow Desktop stopped")
    return int(code)


def _unexpected(window: MainWindow, exc: BaseException) -> None:
    """A bug in a slot: log it and say so in one sentence; the app keeps running."""
    from cogflow_desktop.gui.errors import show_error

    log.error("Unexpected error", exc_info=exc)
    show_error(window, "Something went wrong", exc)


def _ms_since(started: float, at: float | None = None) -> float:
    return round(((time.perf_counter() if at is None else at) - started) * 1000, 1)


def _smoke(launched: Launch) -> None:
    window, start, started = launched.window, launched.start, launched.started

    def answering() -> None:
        """First event-loop turn after the window was shown: it is painted and takes input."""
        report = {
            "window_ms": _ms_since(started),
            "visible": window.isVisible(),
            "data_ready": window.ready,
        }
        print(json.dumps(report), flush=True)

    # How long the event loop went without answering while the worker imported and opened
    # the data folder (a frame is 16 ms): the window must stay responsive meanwhile.
    ticks = [time.perf_counter()]
    gaps = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        gaps[0] = max(gaps[0], now - ticks[0])
        ticks[0] = now

    pulse = QTimer(window)
    pulse.setInterval(16)
    pulse.timeout.connect(tick)

    def ready(_runtime: object) -> None:
        # Queued after _opened: the pages are built and the first screen is filled.
        pulse.stop()
        if not window.ready:
            return
        report = {
            "ready_ms": _ms_since(started),
            "server_ms": _ms_since(started, start.finished_at),
            "max_event_loop_gap_ms": round(gaps[0] * 1000, 1),
            "url": window.state.runtime.url,
        }
        print(json.dumps(report), flush=True)
        if window.wizard is not None:
            window.wizard.reject()
        window.open_builder()  # a real web view, so shutdown has a web engine to stop
        QTimer.singleShot(0, lambda: _report_web(window))

    QTimer.singleShot(0, answering)
    QTimer.singleShot(0, lambda: (ticks.__setitem__(0, time.perf_counter()), pulse.start()))
    start.ready.connect(ready, Qt.ConnectionType.QueuedConnection)
    start.failed.connect(lambda _exc: QTimer.singleShot(0, lambda: _quit(1)))
    QTimer.singleShot(120000, window.close)


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
