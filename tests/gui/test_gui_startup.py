"""Start-up as the app does it: the window shows first, the data folder opens and the server
starts on a worker thread beside it, and a failure there still reaches the researcher as one
sentence (no timing here: bench/bench_startup.py measures it)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from cogflow_desktop.gui.app import CANNOT_START, Launch, launch
from cogflow_desktop.gui.damaged_database import DamagedDatabaseDialog
from cogflow_desktop.gui.main_window import OPENING, PAGE_NAMES
from cogflow_desktop.gui.runtime import StartupError, start_runtime
from cogflow_desktop.services.context import open_context
from cogflow_desktop.services.instance_lock import InstanceLock
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.backups import DatabaseDamaged

pytestmark = pytest.mark.gui
WAIT_MS = 90000  # a loaded 2-core machine imports slowly; never a timing check


@pytest.fixture()
def launched(qtbot, tmp_path: Path) -> Iterator[Callable[[], Launch]]:  # type: ignore[no-untyped-def]
    """Launched by the test itself (after it prepared the folder; it calls start.begin() once
    it has connected what it watches), shut down afterwards."""
    made: list[Launch] = []

    def go() -> Launch:
        result = launch(tmp_path / "data", port=0, begin=False)
        qtbot.addWidget(result.window)
        made.append(result)
        return result

    yield go
    for result in made:
        result.window.shutdown()
        runtime = result.start.wait()
        if runtime is not None:
            runtime.stop()


def _action(window, text: str):  # type: ignore[no-untyped-def]
    return next(a for a in window.findChildren(type(window.about_action)) if a.text() == text)


def test_the_window_is_shown_before_the_data_folder_opens(qtbot, launched) -> None:  # type: ignore[no-untyped-def]
    seen_at_ready: list[tuple[bool, bool]] = []
    result: Launch = launched()
    window = result.window
    result.start.ready.connect(
        lambda _rt: seen_at_ready.append(
            (window.isVisible(), threading.current_thread() is threading.main_thread())
        )
    )
    result.start.begin()

    # launch() returns with the window on screen and the folder still opening: the ready
    # signal is queued to this thread's event loop, which has not run yet.
    assert window.isVisible()
    assert not window.ready
    label = window.opening.findChild(QLabel, "openingLabel")
    assert label is not None and label.text() == OPENING
    assert window.server_label.text() == OPENING
    assert _action(window, "Quit").isEnabled()  # the frame takes input at once
    assert not _action(window, "Run a participant…").isEnabled()  # needs the database
    assert not _action(window, "About CogFlow Desktop").isEnabled()

    qtbot.waitUntil(lambda: window.ready, timeout=WAIT_MS)
    # The server start was signalled to a window already shown, on the GUI thread (the worker
    # touches no Qt object; the pages were built here).
    assert seen_at_ready == [(True, True)]
    assert window.studies.thread() is window.thread()
    runtime = window.state.runtime
    assert requests.get(f"{runtime.url}/healthz", timeout=10).json()["ok"] is True
    assert window.stack.currentWidget() is window.studies  # the first screen
    titles = [page.title for page in window.pages]
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == titles
    assert [title for title, _icon in PAGE_NAMES] == titles  # the frame named them the same
    assert _action(window, "Run a participant…").isEnabled()
    assert runtime.url in window.server_label.text()
    # A new data folder has no researcher yet: the first-run wizard is what it asks first.
    assert window.wizard is not None and window.wizard.isVisible()
    window.wizard.reject()


def _damage(data_dir: Path) -> None:
    """A database with garbage in its middle pages, as a bad sector leaves it."""
    settings = Settings.from_env(data_dir)
    open_context(settings).close()  # created and migrated by the app's own code
    with closing(sqlite3.connect(settings.db_path)) as db, db:
        db.execute("CREATE TABLE filler (x TEXT)")  # enough pages to damage the middle of
        db.executemany("INSERT INTO filler VALUES (?)", [("y" * 500,)] * 400)
    size = settings.db_path.stat().st_size
    with settings.db_path.open("r+b") as f:
        f.seek(size // 2 - (size // 2) % 4096)
        f.write(os.urandom(3 * 4096))


def test_a_damaged_database_found_beside_the_window_opens_the_recovery_window(  # type: ignore[no-untyped-def]
    qtbot, launched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _damage(data_dir)
    with pytest.raises(StartupError) as expected:
        start_runtime(data_dir, port=0)
    assert isinstance(expected.value.__cause__, DatabaseDamaged)
    quit_codes: list[int] = []
    monkeypatch.setattr("cogflow_desktop.gui.app._quit", quit_codes.append)
    seen: dict[str, object] = {}

    def answer() -> None:  # the window is modal: answer it from the event loop
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, DamagedDatabaseDialog):
            QTimer.singleShot(50, answer)
            return
        seen["headline"] = dialog.headline.text()
        seen["restore"] = dialog.restore_button.isEnabled()
        dialog.quit_button.click()

    QTimer.singleShot(0, answer)
    result = launched()
    result.start.begin()
    qtbot.waitUntil(lambda: quit_codes == [1], timeout=WAIT_MS)
    headline = str(seen["headline"])
    assert headline.startswith(f"The database {Settings.from_env(data_dir).db_path} is damaged (")
    assert seen["restore"] is True  # the backup made when the folder was first opened
    assert not result.window.ready


@pytest.mark.parametrize("fault", ["folder in use"])
def test_a_failure_beside_the_window_reaches_the_researcher(  # type: ignore[no-untyped-def]
    qtbot, launched, tmp_path: Path, fault: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    other: InstanceLock | None = None
    if fault == "folder in use":
        other = InstanceLock(data_dir, "the CogFlow Desktop app").acquire()
    else:
        _damage(data_dir)
    # The sentence the app said before it started beside the window.
    with pytest.raises(StartupError) as expected:
        start_runtime(data_dir, port=0)
    if fault == "damaged database":  # the hook point in app.startup_failed relies on this
        assert isinstance(expected.value.__cause__, DatabaseDamaged)
    try:
        result = launched()
        window = result.window
        result.start.begin()
        qtbot.waitUntil(
            lambda: window.findChild(QMessageBox, "startupFailedBox") is not None,
            timeout=WAIT_MS,
        )
        box = window.findChild(QMessageBox, "startupFailedBox")
        assert box.windowTitle() == CANNOT_START
        sentence = str(expected.value)
        assert box.text() == (sentence if sentence.endswith(".") else sentence + ".")
        assert box.isVisible()
        assert not window.ready
        assert not _action(window, "Run a participant…").isEnabled()
        label = window.opening.findChild(QLabel, "openingLabel")
        assert label is not None and label.text() == "CogFlow Desktop cannot start."
    finally:
        if other is not None:
            other.release()
