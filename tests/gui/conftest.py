"""GUI fixtures: a real app runtime (database + embedded server on a free loopback port) in a
temporary data folder, and the main window over it; each test gets its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import Researcher
from memory_keyring import MemoryKeyring

# QtWebEngine must be imported before the QApplication exists (pytest-qt makes it lazily).
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: F401

from cogflow_desktop.gui.logs import close_logging, setup_logging
from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.runtime import AppRuntime, start_runtime


@pytest.fixture()
def runtime(tmp_path: Path) -> Iterator[AppRuntime]:
    setup_logging(tmp_path)
    rt = start_runtime(tmp_path, port=0)
    yield rt
    rt.stop()
    close_logging()


@pytest.fixture()
def window(qtbot, runtime: AppRuntime) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(runtime)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()


@pytest.fixture()
def researcher(runtime: AppRuntime) -> Researcher:
    return Researcher(runtime)


@pytest.fixture()
def memory_keyring() -> Iterator[MemoryKeyring]:
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
