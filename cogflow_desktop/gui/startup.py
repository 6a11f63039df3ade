"""Opening the data folder beside the window: a worker thread imports the database and server
layers (SQLAlchemy, Flask, the models), opens the database (lock, integrity and revision
checks, migration when behind) and starts the local server, while the GUI thread shows the
window and runs its event loop.

The worker touches no Qt object. It only emits `ready` or `failed`, which Qt queues to the GUI
thread (this object lives there), so every widget is still built and changed on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from cogflow_desktop.gui.runtime import AppRuntime

log = logging.getLogger(__name__)


def open_runtime(data_dir: Path, port: int | None = None) -> AppRuntime:
    """What the worker runs: the imports happen here, on the worker thread."""
    from cogflow_desktop.gui.runtime import start_runtime

    return start_runtime(data_dir, port=port)


class BackgroundStart(QObject):
    """Runs `start()` once on a worker thread; `ready(runtime)` or `failed(exception)` follows
    on the GUI thread. `wait()` joins the worker (when the app quits while it still runs) and
    gives what it produced, so a runtime is always stopped even if its signal never arrived."""

    ready = Signal(object)
    failed = Signal(object)

    def __init__(self, start: Callable[[], AppRuntime], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._start = start
        self.runtime: AppRuntime | None = None
        self.error: BaseException | None = None
        # perf_counter() when the database was open and the server answered (for the bench).
        self.finished_at: float | None = None
        self._thread = threading.Thread(target=self._work, name="cogflow-start", daemon=True)

    def begin(self) -> BackgroundStart:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _work(self) -> None:
        try:
            runtime = self._start()
        except BaseException as exc:  # every failure reaches the researcher as a sentence
            log.error("CogFlow Desktop could not start: %s", exc, exc_info=exc)
            self.error = exc
            self.finished_at = time.perf_counter()
            self.failed.emit(exc)
            return
        self.runtime = runtime
        self.finished_at = time.perf_counter()
        self.ready.emit(runtime)

    def wait(self, timeout: float = 60.0) -> AppRuntime | None:
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return self.runtime
