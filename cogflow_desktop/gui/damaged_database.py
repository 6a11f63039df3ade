"""The window the app opens instead of starting when its database failed the integrity check.

It says in one sentence what is wrong and offers three ways on: restore the newest good backup
(the damaged files are moved aside, never deleted; then the app starts normally), export what
can still be read (the salvage export, from a private copy, behind the password and a TOTP
code like every export), or quit. Nothing here opens the damaged file with SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cogflow_desktop.export import FORMATS, ExportOptions
from cogflow_desktop.export.salvage import SalvageResult, signed_in_salvage, study_slugs
from cogflow_desktop.export.salvage_source import SalvageContext, open_salvage_copy
from cogflow_desktop.gui.dialogs.common import ErrorLabel, code_field, password_field
from cogflow_desktop.gui.dialogs.export import FORMAT_LABELS, SUFFIX, path_problem
from cogflow_desktop.gui.errors import plain_sentence
from cogflow_desktop.gui.export_flow import documents_folder
from cogflow_desktop.gui.workers import Job, JobControl, JobRunner
from cogflow_desktop.services.errors import ServiceError
from cogflow_desktop.services.instance_lock import DataFolderInUse, InstanceLock
from cogflow_desktop.settings import Settings
from cogflow_desktop.store.backups import DatabaseDamaged
from cogflow_desktop.store.restore import Restored, RestoreFailed, backup_made, restore_backup

log = logging.getLogger(__name__)
CLIENT = "app"
T = TypeVar("T")


def _busy(work: Callable[[], T]) -> T:
    """Run a short job on the GUI thread with a wait cursor (restore, salvage: seconds)."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return work()
    finally:
        QGuiApplication.restoreOverrideCursor()


def _sentence(damage: DatabaseDamaged, db: Path) -> str:
    return (
        f"The database {db} is damaged ({damage.problem}), so CogFlow Desktop will not write "
        "to it."
    )


class DamagedDatabaseDialog(QDialog):
    def __init__(
        self, settings: Settings, damage: DatabaseDamaged, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("damagedDatabaseDialog")
        self.setWindowTitle("CogFlow Desktop: the database is damaged")
        self.setMinimumWidth(560)
        self.settings = settings
        self.damage = damage
        self.restored: Restored | None = None
        self.salvaged: SalvageResult | None = None
        self.headline = QLabel(_sentence(damage, settings.db_path))
        self.headline.setObjectName("headline")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        backup = damage.backup
        self.backup_info = QLabel()
        self.backup_info.setObjectName("backupInfo")
        self.backup_info.setWordWrap(True)
        self.restore_button = QPushButton()
        self.restore_button.setObjectName("restoreButton")
        if backup is not None:
            made = backup_made(backup)
            self.restore_button.setText(f"Restore the newest good backup (made {made})")
            self.backup_info.setText(
                f"The newest good backup is {backup.name}, made {made}; runs recorded after it "
                "are only in the damaged file, so export what can still be read first. "
                "Restoring moves the damaged file and its companions into "
                f"{settings.data_dir / 'damaged'} (never deletes them)."
            )
        else:
            self.restore_button.setText("Restore the newest good backup")
            self.restore_button.setEnabled(False)
            reason = (
                f"There is no backup that passes the integrity check in {settings.backup_dir}, "
                "so there is nothing to restore."
            )
            self.restore_button.setToolTip(reason)
            self.backup_info.setText(reason)
        self.salvage_button = QPushButton("Export what can still be read…")
        self.salvage_button.setObjectName("salvageButton")
        self.quit_button = QPushButton("Quit")
        self.quit_button.setObjectName("quitButton")
        self.status = ErrorLabel()
        self.status.setObjectName("status")
        self.restore_button.clicked.connect(self.restore)
        self.salvage_button.clicked.connect(self.open_salvage)
        self.quit_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.backup_info)
        for button in (self.restore_button, self.salvage_button, self.quit_button):
            layout.addWidget(button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.salvage_dialog: SalvageExportDialog | None = None

    def restore(self) -> None:
        backup = self.damage.backup
        if backup is None:
            return
        try:
            lock = InstanceLock(self.settings.data_dir, "the CogFlow Desktop app").acquire()
        except (DataFolderInUse, OSError) as exc:
            self.status.show_error(plain_sentence(exc))
            return
        try:
            restored = _busy(lambda: restore_backup(self.settings.db_path, backup))
        except RestoreFailed as exc:
            self.status.show_error(str(exc))
            return
        finally:
            lock.release()
        log.warning(
            "Restored %s over the damaged database; the damaged files are in %s",
            backup,
            restored.aside,
        )
        self.restored = restored
        self.accept()

    def open_salvage(self) -> None:
        try:
            ctx = _busy(lambda: open_salvage_copy(self.settings))
        except ServiceError as exc:
            self.status.show_error(exc.message)
            return
        except OSError as exc:
            self.status.show_error(
                f"The damaged database could not be copied aside: {exc.strerror or exc}."
            )
            return
        dialog = SalvageExportDialog(ctx, documents_folder(), self)
        dialog.finished.connect(lambda _code: self._salvage_finished(dialog))
        self.salvage_dialog = dialog
        dialog.open()

    def _salvage_finished(self, dialog: SalvageExportDialog) -> None:
        dialog.ctx.close()  # deletes the private copy
        if dialog.result_ is not None:
            self.salvaged = dialog.result_
            self.status.setText(dialog.result_.sentence())
        self.salvage_dialog = None


class SalvageExportDialog(QDialog):
    """Study, format and target of a salvage export, and who asks for it (password + code)."""

    def __init__(self, ctx: SalvageContext, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("salvageExportDialog")
        self.setWindowTitle("Export what can still be read")
        self.setMinimumWidth(480)
        self.ctx = ctx
        self.result_: SalvageResult | None = None
        self._folder = folder
        self.study = QComboBox()
        self.study.setObjectName("study")
        self.study.setEditable(True)  # the list itself may be unreadable: type the slug then
        self.study.addItems(study_slugs(ctx))
        self.format = QComboBox()
        self.format.setObjectName("format")
        for fmt in FORMATS:
            self.format.addItem(FORMAT_LABELS.get(fmt, fmt), fmt)
        self.target = QLineEdit()
        self.target.setObjectName("target")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target, 1)
        target_row.addWidget(browse)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = password_field()
        self.password.setObjectName("password")
        self.code = code_field()
        self.code.setObjectName("code")
        self.error = ErrorLabel()
        self.status = QLabel()
        self.status.setObjectName("salvageStatus")
        self.jobs = JobRunner(self)
        intro = QLabel(
            "Every run that passes its integrity check is exported with each trial that "
            "authenticates; a report beside the export names the rest. Exporting needs your "
            "password and a code, as every export does."
        )
        intro.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow("Study", self.study)
        form.addRow("Format", self.format)
        form.addRow("Save as", target_row)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("Code", self.code)
        form.addRow(self.status)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.export_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("Export")
        self.export_button.setObjectName("exportButton")
        buttons.accepted.connect(self.export)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.study.currentTextChanged.connect(self._suggest_target)
        self.format.currentIndexChanged.connect(self._suggest_target)
        self._suggest_target()

    def _fmt(self) -> str:
        return str(self.format.currentData())

    def _suggest_target(self) -> None:
        current = Path(self.target.text()).parent if self.target.text() else self._folder
        slug = self.study.currentText().strip() or "study"
        self.target.setText(str(current / f"{slug}-salvaged{SUFFIX[self._fmt()]}"))

    def _browse(self) -> None:
        if not SUFFIX[self._fmt()]:
            path = QFileDialog.getExistingDirectory(self, "Folder to create the export in")
            if path:
                slug = self.study.currentText().strip() or "study"
                self.target.setText(str(Path(path) / f"{slug}-salvaged"))
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.target.text())
        if path:
            self.target.setText(path)

    def export(self) -> None:
        self.error.clear_error()
        slug = self.study.currentText().strip()
        if not slug:
            self.error.show_error("Choose the study to export.")
            return
        target = Path(self.target.text().strip()).expanduser()
        problem = path_problem(target, self._fmt())
        if problem:
            self.error.show_error(problem)
            return
        options = ExportOptions(study_slug=slug, format=self._fmt(), out=target)
        username, password, code = (
            self.username.text().strip(),
            self.password.text(),
            self.code.text(),
        )
        self.password.clear()
        self.code.clear()

        def work(_control: JobControl) -> SalvageResult:
            return signed_in_salvage(self.ctx, username, password, code, options, client=CLIENT)

        def connect(job: Job) -> None:
            job.signals.succeeded.connect(self._succeeded)
            job.signals.failed.connect(self._failed)

        # Off the window's thread: a large damaged database takes a while to read through.
        self.setEnabled(False)
        self.status.setText("Reading the damaged database's copy…")
        self.jobs.start(work, connect)

    def reject(self) -> None:
        if self.jobs.busy:  # the job reads the copy that closing this dialog deletes
            return
        super().reject()

    def _succeeded(self, result: SalvageResult) -> None:
        self.result_ = result
        self.setEnabled(True)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.setEnabled(True)
        self.status.setText("")
        if isinstance(exc, ServiceError):
            self.error.show_error(exc.message)
        else:
            log.error("Salvage export failed", exc_info=exc)
            self.error.show_error(plain_sentence(exc))


def start_or_recover(
    data_dir: Path,
    start: Callable[[], T],
    damaged: Callable[[BaseException], DatabaseDamaged | None],
) -> T | None:
    """Start the app; while its database is damaged, show the dialog. The runtime once it
    started (after a restore, on the restored data), None when the researcher quit."""
    while True:
        try:
            return start()
        except Exception as exc:
            damage = damaged(exc)
            if damage is None:
                raise
        settings = Settings.from_env(data_dir)
        dialog = DamagedDatabaseDialog(settings, damage)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.restored is None:
            return None
