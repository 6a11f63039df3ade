"""Settings > Researchers: who may read results, and the install key they share.

Every change (add, change my password, lock, unlock, remove, rotate the install key) asks for
the acting researcher's password and a current TOTP code first, as the command line does, and
goes through services/researchers.py (audited there). A change takes effect at once: a locked
or removed researcher's open session stops with its next action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from cogflow_desktop.gui.dialogs.common import ErrorLabel, password_field
from cogflow_desktop.gui.dialogs.unlock import UnlockDialog
from cogflow_desktop.gui.errors import plain_sentence
from cogflow_desktop.gui.pages.base import button_row, make_table, selected_rows, table_model
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.viewmodels.table import Column, short_time
from cogflow_desktop.services import researchers
from cogflow_desktop.services.errors import ServiceError
from cogflow_desktop.services.vault import SessionSecrets

CLIENT = "desktop-app"
COLUMNS = (
    Column("username", "Researcher"),
    Column("state", "State"),
    Column("authenticator", "Authenticator"),
    Column("last_login_at", "Last sign-in", short_time),
    Column("created_at", "Created", short_time),
)


class ResearchersPanel(QGroupBox):
    """The list of researcher accounts with the lifecycle actions."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__("Researchers", parent)
        self.setObjectName("researchersPanel")
        self.state = state
        layout = QVBoxLayout(self)
        self.table = make_table(COLUMNS, "researchersTable")
        self.table.setMinimumHeight(140)
        layout.addWidget(self.table)
        row, self.buttons = button_row(
            ("addResearcher", "Add researcher…", self._add_clicked),
            ("changePassword", "Change my password…", self._passwd_clicked),
            ("lockResearcher", "Lock", lambda: self._selected_action("lock")),
            ("unlockResearcher", "Unlock", lambda: self._selected_action("unlock")),
            ("removeResearcher", "Remove…", lambda: self._selected_action("remove")),
            ("rotateKey", "Rotate install key…", self._rotate_clicked),
        )
        layout.addLayout(row)
        self.message = QLabel()
        self.message.setObjectName("researchersMessage")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        note = QLabel(
            "Changes need your password and a current code from your authenticator. A locked "
            "researcher cannot sign in; a removed one loses their copy of the install key. "
            "After removing someone who may have copied the data folder, rotate the install key."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        layout.addWidget(note)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.refresh()

    # -- the list ------------------------------------------------------------------------------
    def refresh(self) -> None:
        rows: list[dict[str, Any]] = []
        for r in researchers.list_researchers(self.state.ctx):
            state = f"locked by {r.locked_by}" if r.locked else "active"
            if not r.converted:
                state += " (signs in once to take the current key format)"
            rows.append(
                {
                    "username": r.username,
                    "state": state,
                    "authenticator": "enrolled" if r.mfa_enabled else "not set up",
                    "last_login_at": r.last_login_at.isoformat() if r.last_login_at else None,
                    "created_at": r.created_at.isoformat(),
                    "locked": r.locked,
                }
            )
        table_model(self.table).set_rows(rows)
        self.table.resizeColumnsToContents()
        self._update_buttons()

    def showEvent(self, event: Any) -> None:
        self.refresh()
        super().showEvent(event)

    def selected_username(self) -> str | None:
        rows = selected_rows(self.table)
        return table_model(self.table).row(rows[0])["username"] if rows else None

    def _update_buttons(self) -> None:
        chosen = selected_rows(self.table)
        row = table_model(self.table).row(chosen[0]) if chosen else None
        self.buttons["lockResearcher"].setEnabled(bool(row) and not row["locked"])  # type: ignore[index]
        self.buttons["unlockResearcher"].setEnabled(bool(row) and row["locked"])  # type: ignore[index]
        self.buttons["removeResearcher"].setEnabled(bool(row))

    # -- proof of who acts ---------------------------------------------------------------------
    def authorize(self) -> SessionSecrets | None:
        """The signed-in researcher with a fresh TOTP check, asking for what is missing."""
        session = self.state.session
        if not session.can_decrypt():
            names = [r.username for r in researchers.list_researchers(self.state.ctx)]
            dialog = UnlockDialog(
                session,
                names,
                purpose="Changing researchers needs your password and a current code.",
                parent=self,
            )
            dialog.setWindowTitle("Confirm it is you")
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        return session.secrets

    def _run(self, work: Callable[[SessionSecrets], str]) -> bool:
        """Authorize, do the change, say what happened (or why not) in one sentence."""
        self.error.clear_error()
        self.message.setText("")
        acting = self.authorize()
        if acting is None:
            return False
        try:
            self.message.setText(work(acting))
        except ServiceError as exc:
            self.error.show_error(plain_sentence(exc))
            return False
        finally:
            self.refresh()
        return True

    # -- actions (callable directly; the button slots add the dialogs) --------------------------
    def add_researcher(self, username: str, password: str) -> bool:
        def work(acting: SessionSecrets) -> str:
            researchers.add(self.state.ctx, acting, username, password, client=CLIENT)
            return f"{username} can now sign in and enrol an authenticator."

        return self._run(work)

    def change_password(self, old: str, new: str) -> bool:
        def work(acting: SessionSecrets) -> str:
            researchers.change_password(self.state.ctx, acting, old, new, client=CLIENT)
            return "Your password is changed; your other sessions have ended."

        return self._run(work)

    def act_on(self, action: str, username: str) -> bool:
        do = {
            "lock": (researchers.lock, "is locked; their open sessions have ended."),
            "unlock": (researchers.unlock, "is unlocked and can sign in again."),
            "remove": (researchers.remove, "is removed with their copy of the install key."),
        }
        fn, outcome = do[action]

        def work(acting: SessionSecrets) -> str:
            fn(self.state.ctx, acting, username, client=CLIENT)
            return f"{username} {outcome}"

        return self._run(work)

    def rotate_key(self) -> researchers.Rotation | None:
        done: list[researchers.Rotation] = []

        def work(acting: SessionSecrets) -> str:
            done.append(researchers.rotate_install_key(self.state.ctx, acting, client=CLIENT))
            result = done[0]
            extra = (
                " Unattended sync was turned off (it held the old key)."
                if result.unattended_sync_turned_off
                else ""
            )
            return (
                f"The install key is rotated ({result.run_keys} run keys re-sealed). Every "
                f"session has ended: sign in again.{extra}"
            )

        self._run(work)
        return done[0] if done else None

    # -- button slots --------------------------------------------------------------------------
    def _add_clicked(self) -> None:
        dialog = _AccountDialog(self, new_account=True)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.add_researcher(dialog.username.text().strip(), dialog.password.text())

    def _passwd_clicked(self) -> None:
        dialog = _AccountDialog(self, new_account=False)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.change_password(dialog.current.text(), dialog.password.text())

    def _selected_action(self, action: str) -> None:
        username = self.selected_username()
        if username is None:
            return
        if action == "remove":
            answer = QMessageBox.question(
                self,
                "Remove researcher",
                f"Remove {username}? Their account and copy of the install key are deleted; "
                "studies and results stay.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.act_on(action, username)

    def _rotate_clicked(self) -> None:
        answer = QMessageBox.question(
            self,
            "Rotate install key",
            "Make a new install key? Every result is re-sealed to it, every researcher keeps "
            "access, the recovery key is replaced (the old one stops working) and everyone "
            "signs in again. Participants' runs pause for a moment.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        result = self.rotate_key()
        if result is not None:
            RecoveryKeyDialog(result.recovery_key, self).exec()


class _AccountDialog(QDialog):
    """New researcher (name + password twice) or my new password (current + new twice)."""

    def __init__(self, parent: QWidget, *, new_account: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add researcher" if new_account else "Change my password")
        form = QFormLayout(self)
        self.username = QLineEdit()
        self.current = password_field()
        self.password = password_field()
        self.repeat = password_field()
        if new_account:
            form.addRow("Username", self.username)
        else:
            form.addRow("Current password", self.current)
        form.addRow("New password" if not new_account else "Password", self.password)
        form.addRow("Repeat", self.repeat)
        self.error = ErrorLabel()
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _check(self) -> None:
        if self.password.text() != self.repeat.text():
            self.error.show_error("The two passwords differ.")
            return
        self.accept()


class RecoveryKeyDialog(QDialog):
    """The new recovery key, shown once, closed only once the researcher says it is saved."""

    def __init__(self, recovery_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newRecoveryKey")
        self.setWindowTitle("New recovery key")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "This is the installation's new recovery key. It is shown only now; the old one no "
            "longer works. Store it somewhere safe, away from this computer."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        text = QPlainTextEdit(recovery_key)
        text.setReadOnly(True)
        text.setMaximumHeight(60)
        layout.addWidget(text)
        self.saved = QCheckBox("I have saved the new recovery key")
        layout.addWidget(self.saved)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(False)
        self.saved.toggled.connect(ok.setEnabled)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
