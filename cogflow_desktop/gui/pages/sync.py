"""Sync: the central server, its credentials (OS keyring), Sync now with progress, automatic
sync, and every run's state with the server's own reason when it failed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from cogflow_desktop.gui import credentials, queries
from cogflow_desktop.gui.dialogs.common import password_field
from cogflow_desktop.gui.errors import plain_sentence, show_error
from cogflow_desktop.gui.pages.base import Page, make_table, table_model
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.viewmodels.table import Column, short_time
from cogflow_desktop.gui.workers import Job, JobControl
from cogflow_desktop.sync import keystore
from cogflow_desktop.sync import state as sync_state
from cogflow_desktop.sync.progress import Progress, SyncReport

COLUMNS = [
    Column("run_session_id", "Run", lambda v: str(v)[:8]),
    Column("study_slug", "Study"),
    Column("status", "Run status"),
    Column("sync_state", "Sync state"),
    Column("pieces", "Pieces sent"),
    Column("attempts", "Attempts"),
    Column("updated_at", "Updated (UTC)", short_time),
    Column("reason", "Server's reason"),
]
STATE_COLOURS = {"failed": "#f8d7da", "acknowledged": "#d1e7dd"}


class SyncPage(Page):
    title = "Sync"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        prefs = state.prefs
        self.job: Job | None = None
        self.last_report: SyncReport | None = None
        self.server_url = QLineEdit(prefs.sync_server_url)
        self.server_url.setObjectName("serverUrl")
        self.server_url.setPlaceholderText("https://cogflow.example-lab.org")
        self.username = QLineEdit(prefs.sync_username)
        self.username.setObjectName("syncUsername")
        self.password = password_field("kept in this computer's keyring")
        self.password.setObjectName("syncPassword")
        self.save_button = QPushButton("Save credentials")
        self.save_button.setObjectName("saveCredentials")
        self.save_button.clicked.connect(self.save_credentials)
        self.auto = QCheckBox("Sync automatically every")
        self.auto.setObjectName("autoSync")
        self.auto.setToolTip(
            "Keeps the key that unlocks results in this computer's keyring, so sync can run "
            "with nobody signed in."
        )
        self.auto.setChecked(prefs.auto_sync and keystore.is_enabled(state.ctx))
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(prefs.auto_sync_minutes)
        self.auto.toggled.connect(self._auto_toggled)
        self.minutes.valueChanged.connect(self._auto_changed)
        auto_row = QHBoxLayout()
        auto_row.addWidget(self.auto)
        auto_row.addWidget(self.minutes)
        auto_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Central server", self.server_url)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addStretch(1)
        form.addRow("", save_row)
        form.addRow("", auto_row)
        self.layout_.addLayout(form)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setObjectName("syncNow")
        self.sync_button.clicked.connect(self.sync_now)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelSync")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("syncProgress")
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("syncStatus")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.sync_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 3)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.status)
        self.owners = QLabel()  # which central account owns each synced study
        self.owners.setObjectName("centralOwners")
        self.owners.setWordWrap(True)
        self.layout_.addWidget(self.owners)
        self.table = make_table(COLUMNS, "syncTable")
        table_model(self.table).set_highlight(lambda r: STATE_COLOURS.get(r["sync_state"]))
        self.layout_.addWidget(self.table, 1)
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.sync_now(automatic=True))
        self._auto_changed()

    def refresh(self) -> None:
        table_model(self.table).set_rows(queries.sync_rows(self.state.ctx))
        self.table.resizeColumnsToContents()
        central = sync_state.central_studies(self.state.ctx)
        self.owners.setText("\n".join(c.owner_sentence() for c in central))
        self.owners.setVisible(bool(central))

    # -- settings ----------------------------------------------------------------------------
    def _store_prefs(self) -> None:
        prefs = self.state.prefs
        prefs.sync_server_url = self.server_url.text().strip()
        prefs.sync_username = self.username.text().strip()
        prefs.auto_sync = self.auto.isChecked()
        prefs.auto_sync_minutes = self.minutes.value()
        self.state.save_prefs()

    def save_credentials(self) -> bool:
        self._store_prefs()
        url, user = self.state.prefs.sync_server_url, self.state.prefs.sync_username
        if not url or not user:
            self.status.setText("Type the central server's address and your username.")
            return False
        if self.password.text():
            try:
                credentials.save_password(url, user, self.password.text())
            except credentials.CredentialError as exc:
                show_error(self, "Credentials not saved", exc)
                return False
            self.password.clear()
        self.status.setText("Saved. The password is kept in this computer's keyring.")
        return True

    def _auto_toggled(self, on: bool) -> None:
        from cogflow_desktop.gui import sync_bridge  # the sync engine, on first use

        ctx = self.state.ctx
        try:
            if on and not keystore.is_enabled(ctx):
                sync_bridge.enable_unattended(ctx, self.state.session, self.server_url.text())
            elif not on and keystore.is_enabled(ctx):
                actor = self.state.session.username or sync_bridge.UNATTENDED_ACTOR
                sync_bridge.disable_unattended(ctx, actor)
        except sync_bridge.SyncProblem as exc:
            self.status.setText(str(exc))
            self.auto.blockSignals(True)
            self.auto.setChecked(not on)
            self.auto.blockSignals(False)
        self._auto_changed()

    def _auto_changed(self, *_args: Any) -> None:
        self._store_prefs()
        if self.auto.isChecked():
            self.timer.start(self.minutes.value() * 60 * 1000)
        else:
            self.timer.stop()

    # -- syncing -----------------------------------------------------------------------------
    def sync_now(self, automatic: bool = False) -> Job | None:
        from cogflow_desktop.gui import sync_bridge  # the sync engine, on first use
        from cogflow_desktop.sync.client import Credentials

        if self.job is not None:
            return None
        self._store_prefs()
        url, user = self.state.prefs.sync_server_url, self.state.prefs.sync_username
        password = self.password.text() or credentials.load_password(url, user)
        ctx = self.state.ctx
        try:
            server = sync_bridge.check_target(url, user, password)
            key, actor = sync_bridge.unlocking_key(ctx, self.state.session, server)
        except sync_bridge.SyncProblem as exc:
            self.status.setText(str(exc))
            return None
        remote = Credentials(user, password or "")

        def work(control: JobControl) -> SyncReport:
            def report(p: Progress) -> None:
                control.progress(p.runs_done, p.runs_total, "")

            return sync_bridge.run_sync(ctx, server, remote, key, actor, report, control.event)

        def connect(job: Job) -> None:
            job.signals.progress.connect(self._progress)
            job.signals.succeeded.connect(self._synced)
            job.signals.cancelled.connect(lambda: self.status.setText("Sync cancelled."))
            job.signals.failed.connect(lambda exc: self._failed(exc, automatic))
            job.signals.finished.connect(self._done)

        self.sync_button.setEnabled(False)
        self.cancel_button.show()
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText(f"Syncing to {server}…")
        self.job = self.state.jobs.start(work, connect)
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.control.cancel()

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if text:
            self.status.setText(text)
        self.refresh()

    def _synced(self, report: SyncReport) -> None:
        from cogflow_desktop.gui import sync_bridge

        self.last_report = report
        self.status.setText(sync_bridge.describe(report))

    def _failed(self, exc: BaseException, automatic: bool) -> None:
        if automatic:  # no pop-up for a background attempt: the status line says it
            self.status.setText(f"Automatic sync failed: {plain_sentence(exc)}")
        else:
            self.status.setText(plain_sentence(exc))
            show_error(self, "Sync failed", exc)

    def _done(self) -> None:
        self.job = None
        self.sync_button.setEnabled(True)
        self.cancel_button.hide()
        self.progress.hide()
        self.refresh()
        self.state.changed()
