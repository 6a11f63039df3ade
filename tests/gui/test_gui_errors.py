"""#12.7: every error the services raise reaches the researcher as its own sentence, never as
"Something went wrong" with a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from gui_helpers import (
    CENTRAL_ADMIN,
    FLANKER,
    PASSWORD,
    RESEARCHER,
    WAIT_MS,
    CentralServer,
    Researcher,
    record_run,
)
from keyring.backends import fail
from memory_keyring import MemoryKeyring
from PySide6.QtWidgets import QMessageBox

from cogflow_desktop.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


def _boxes(window: MainWindow) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def _plain(box: QMessageBox) -> None:
    assert "Something" not in box.text()
    assert "Traceback" not in box.detailedText() and 'File "' not in box.detailedText()


@pytest.fixture()
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what keyring picks on a machine without one
    yield
    keyring.set_keyring(previous)


def test_save_credentials_without_a_keyring_says_so(
    qtbot, window: MainWindow, no_keyring: None
) -> None:
    page = window.sync
    window.show_page(page)
    page.server_url.setText("https://central.example.org")
    page.username.setText("alice")
    page.password.setText("secret password")
    assert page.save_credentials() is False
    (box,) = _boxes(window)
    _plain(box)
    assert "no usable keyring" in box.text()


@pytest.fixture()
def central(tmp_path: Path) -> Iterator[CentralServer]:
    server = CentralServer(tmp_path / "central")
    yield server
    server.stop()


def test_sync_with_a_wrong_central_password_says_so(
    qtbot,
    window: MainWindow,
    researcher: Researcher,
    central: CentralServer,
    memory_keyring: MemoryKeyring,
) -> None:
    slug = window.studies.import_file(FLANKER)
    assert slug
    record_run(window.state.runtime, slug, "P1", 2, submit="completed")
    window.state.session.sign_in(RESEARCHER, PASSWORD)
    page = window.sync
    window.show_page(page)
    page.server_url.setText(central.url)
    page.username.setText(CENTRAL_ADMIN)
    page.password.setText("not the central password")
    assert page.sync_now() is not None
    qtbot.waitUntil(lambda: page.job is None, timeout=WAIT_MS)
    boxes = _boxes(window)
    assert len(boxes) == 1, page.status.text()
    _plain(boxes[0])
    assert boxes[0].text() == page.status.text()
    assert "login" in page.status.text().lower() or "credentials" in page.status.text().lower()
