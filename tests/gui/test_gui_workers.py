"""Long work off the GUI thread: progress arrives on the GUI thread, cancel stops it, and a
failure arrives as the exception (shown as one sentence)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from cogflow_desktop.gui.errors import plain_sentence
from cogflow_desktop.gui.workers import Job, JobControl, JobRunner
from cogflow_desktop.services.errors import Forbidden

pytestmark = pytest.mark.gui

WAIT_MS = 30000


def test_progress_and_result_arrive_on_the_gui_thread(qtbot) -> None:
    runner = JobRunner()
    seen: list[tuple[int, bool]] = []
    gui_thread = QThread.currentThread()

    def work(control: JobControl) -> str:
        for i in range(3):
            control.progress(i + 1, 3)
        return "done"

    results: list[str] = []

    def connect(job: Job) -> None:
        job.signals.progress.connect(
            lambda done, _t, _x: seen.append((done, QThread.currentThread() is gui_thread))
        )
        job.signals.succeeded.connect(results.append)

    runner.start(work, connect)
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)
    assert results == ["done"]
    assert [d for d, _ in seen] == [1, 2, 3] and all(on_gui for _, on_gui in seen)


def test_cancel_stops_the_job(qtbot) -> None:
    runner = JobRunner()
    started = threading.Event()

    def work(control: JobControl) -> None:
        started.set()
        while True:
            control.check()
            control.event.wait(0.01)

    job = runner.start(work)
    assert started.wait(10)
    with qtbot.waitSignal(job.signals.cancelled, timeout=WAIT_MS):
        job.control.cancel()
    assert runner.wait(WAIT_MS)


def test_failure_arrives_as_the_exception(qtbot) -> None:
    runner = JobRunner()

    def work(_control: JobControl) -> None:
        raise Forbidden("MFA verification required.")

    failures: list[BaseException] = []
    runner.start(work, lambda job: job.signals.failed.connect(failures.append))
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)
    exc = failures[0]
    assert isinstance(exc, Forbidden) and plain_sentence(exc) == "MFA verification required."
    assert plain_sentence(RuntimeError("internal detail")) == (
        "Something unexpected went wrong; the details say what, and the app log has more."
    )
