"""Review finding 4 (app): Settings > Researchers lists accounts and adds, locks, unlocks and
removes researchers, changes the signed-in researcher's password and rotates the install key,
each after the acting researcher's password and a fresh TOTP code."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import PASSWORD, RESEARCHER, Researcher
from PySide6.QtWidgets import QDialog

from cogflow_desktop.gui.main_window import MainWindow
from cogflow_desktop.gui.pages.base import select_row, table_model
from cogflow_desktop.gui.pages.researchers import ResearchersPanel
from cogflow_desktop.services import auth, users

pytestmark = pytest.mark.gui


def _panel(window: MainWindow) -> ResearchersPanel:
    panel = window.findChild(ResearchersPanel)
    assert panel is not None
    return panel


def _fresh(window: MainWindow, researcher: Researcher) -> None:
    window.state.session.sign_in(RESEARCHER, PASSWORD)
    window.state.session.verify_code(researcher.next_code())


def test_researchers_panel_lifecycle(
    qtbot, window: MainWindow, researcher: Researcher, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window.show_page(window.settings_page)
    panel = _panel(window)
    assert [r["username"] for r in table_model(panel.table).rows] == [RESEARCHER]
    _fresh(window, researcher)
    assert panel.add_researcher("second-lab", "second lab password")
    names = [r["username"] for r in table_model(panel.table).rows]
    assert names == [RESEARCHER, "second-lab"]
    # The newcomer's live session stops as soon as they are locked.
    ctx = window.state.ctx
    second = auth.login(ctx, "second-lab", "second lab password", "test")
    assert auth.session_for(ctx, second.token) is not None
    assert panel.act_on("lock", "second-lab")
    assert auth.session_for(ctx, second.token) is None
    row = next(r for r in table_model(panel.table).rows if r["username"] == "second-lab")
    assert row["state"] == f"locked by {RESEARCHER}"
    select_row(panel.table, 1)
    assert panel.buttons["unlockResearcher"].isEnabled()
    assert panel.act_on("unlock", "second-lab")
    assert panel.act_on("remove", "second-lab")
    assert [r["username"] for r in table_model(panel.table).rows] == [RESEARCHER]
    # Errors are one sentence in the panel, nothing changes.
    assert not panel.act_on("remove", RESEARCHER)
    assert "last researcher" in panel.error.text()
    window.grab().save(str(tmp_path / "settings-researchers.png"))


def test_password_change_and_key_rotation(
    qtbot, window: MainWindow, researcher: Researcher
) -> None:  # type: ignore[no-untyped-def]
    window.show_page(window.settings_page)
    panel = _panel(window)
    _fresh(window, researcher)
    assert panel.change_password(PASSWORD, "a changed lab password")
    users.unlock_with_password(window.state.ctx, RESEARCHER, "a changed lab password")
    rotation = panel.rotate_key()
    assert rotation is not None and "Every session has ended" in panel.message.text()
    assert window.state.session.secrets is None  # signed out: the key it held is retired
    key = users.unlock_with_recovery_key(window.state.ctx, rotation.recovery_key)
    again = users.unlock_with_password(window.state.ctx, RESEARCHER, "a changed lab password")
    assert key.public_key().public_bytes_raw() == again.public_key().public_bytes_raw()


def test_changes_ask_who_acts_first(qtbot, window: MainWindow, researcher: Researcher) -> None:  # type: ignore[no-untyped-def]
    """Not signed in: the unlock dialog asks for the password and a code; cancel changes
    nothing."""
    from PySide6.QtCore import QTimer

    from cogflow_desktop.gui.dialogs.unlock import UnlockDialog

    window.show_page(window.settings_page)
    panel = _panel(window)
    seen: list[str] = []

    def cancel() -> None:
        dialog = panel.findChild(UnlockDialog)
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(50, cancel)
            return
        seen.append(dialog.windowTitle())
        dialog.done(QDialog.DialogCode.Rejected)

    QTimer.singleShot(0, cancel)
    assert not panel.add_researcher("nobody", "nobody's password")
    assert seen == ["Confirm it is you"]
    assert [r["username"] for r in table_model(panel.table).rows] == [RESEARCHER]
