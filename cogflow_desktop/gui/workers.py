"""Long work off the GUI thread: a QRunnable per job on the global pool, reporting progress
through signals (delivered on the GUI thread) and stopping at the next step when cancelled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from cogflow_desktop.gui.researcher import Cancelled


class JobControl:
    """Handed to the job function: report progress, and check whether to stop."""

    def __init__(self, signals: JobSignals) -> None:
        self._signals = signals
        self._cancel = threading.Event()

    def progress(self, done: int, total: int, text: str = "") -> None:
        self._signals.progress.emit(done, total, text)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def event(self) -> threading.Event:
        """For code that waits on or checks a threading.Event itself (the sync engine)."""
        return self._cancel

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("The work was cancelled.")


class JobSignals(QObject):
    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal()


class Job(QRunnable):
    def __init__(self, fn: Callable[[JobControl], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # we keep it, so its signals outlive run()
        self.signals = JobSignals()
        self.control = JobControl(self.signals)
        self._fn = fn

    def run(self) -> None:
        try:
            result = self._fn(self.control)
        except Cancelled:
            self.signals.cancelled.emit()
        except BaseException as exc:  # reported on the GUI thread, never lost in a thread
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


class JobRunner(QObject):
    """Starts jobs and keeps them alive until they finish."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: set[Job] = set()
        self.pool = QThreadPool.globalInstance()

    def start(
        self, fn: Callable[[JobControl], Any], connect: Callable[[Job], None] | None = None
    ) -> Job:
        """Run fn on the pool; `connect` wires the job's signals first, so none is missed."""
        job = Job(fn)
        self._running.add(job)
        if connect is not None:
            connect(job)
        job.signals.finished.connect(lambda: self._running.discard(job))
        self.pool.start(job)
        return job

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def cancel_all(self) -> None:
        for job in list(self._running):
            job.control.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
