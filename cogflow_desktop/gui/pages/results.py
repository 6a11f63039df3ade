"""Results: a study's runs (interrupted ones say so), decrypted on demand after a TOTP code."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QWidget,
)

from cogflow_desktop.gui import mfa_status, queries
from cogflow_desktop.gui.dialogs.unlock import ensure_unlocked
from cogflow_desktop.gui.errors import show_error
from cogflow_desktop.gui.pages.base import Page, button_row, make_table, selected_rows, table_model
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.viewmodels.table import Column, short_time, trial_columns
from cogflow_desktop.gui.workers import Job, JobControl

RUN_COLUMNS = [
    Column("run_session_id", "Run", lambda v: str(v)[:8]),
    Column("state", "Status"),
    Column("participant_key_preview", "Participant key"),
    Column("trial_count", "Trials"),
    Column("started_at", "Started (UTC)", short_time),
    Column("completed_at", "Ended (UTC)", short_time),
    Column("config_version_label", "Version"),
    Column("sync_state", "Sync"),
    Column("sync_reason", "Sync problem"),
]
ROW_COLOURS = {"interrupted": "#fff3cd", "failed": "#f8d7da"}


class ResultsPage(Page):
    title = "Results"
    export_requested = Signal(str, list)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.decrypted: dict[str, dict[str, Any]] = {}
        self.job: Job | None = None
        self.study = QComboBox()
        self.study.setObjectName("studyCombo")
        self.study.currentTextChanged.connect(lambda _t: self.refresh_runs())
        top = QHBoxLayout()
        top.addWidget(QLabel("Study"))
        top.addWidget(self.study, 1)
        self.layout_.addLayout(top)
        self.mfa_label = QLabel()
        self.mfa_label.setObjectName("mfaLabel")
        self.mfa_label.setWordWrap(True)
        self.layout_.addWidget(self.mfa_label)
        self.notice = QLabel()
        self.notice.setObjectName("interruptedNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background: #fff3cd; padding: 6px;")
        self.layout_.addWidget(self.notice)
        row, self.buttons = button_row(
            ("decryptButton", "Decrypt selected", self.decrypt_selected),
            ("decryptAllButton", "Decrypt all", self.decrypt_all),
            ("exportButton", "Export…", self.request_export),
            ("lockButton", "Lock", self.lock),
        )
        self.progress = QProgressBar()
        self.progress.setObjectName("decryptProgress")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        self.layout_.addLayout(row)
        self.runs = make_table(RUN_COLUMNS, "runsTable", multi=True)
        table_model(self.runs).set_highlight(lambda r: ROW_COLOURS.get(r["state"]))
        self.runs.selectionModel().selectionChanged.connect(lambda *_: self.show_selected())
        self.summary = QLabel()
        self.summary.setObjectName("runSummary")
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.trials = make_table([], "trialsTable")
        lower = QWidget()
        lower_layout = QHBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.trials, 3)
        lower_layout.addWidget(self.summary, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.runs)
        split.addWidget(lower)
        self.layout_.addWidget(split, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.update_mfa_label)

    # -- loading -----------------------------------------------------------------------------
    def shown(self) -> None:
        self.refresh()
        self.timer.start()

    def hideEvent(self, event: Any) -> None:
        self.timer.stop()
        super().hideEvent(event)

    def refresh(self) -> None:
        slugs = [r["study_slug"] for r in queries.study_rows(self.state.ctx)]
        current = self.study.currentText()
        self.study.blockSignals(True)
        self.study.clear()
        self.study.addItems(slugs)
        if current in slugs:
            self.study.setCurrentText(current)
        self.study.blockSignals(False)
        self.refresh_runs()
        self.update_mfa_label()

    def open_study(self, slug: str) -> None:
        self.refresh()
        self.study.setCurrentText(slug)

    def refresh_runs(self) -> None:
        slug = self.study.currentText()
        keep = set(self._selected_ids())
        rows = queries.run_rows(self.state.ctx, slug) if slug else []
        table_model(self.runs).set_rows(rows)
        self.runs.resizeColumnsToContents()
        for i, row in enumerate(rows):  # a refresh keeps what the researcher selected
            if row["run_session_id"] in keep:
                self.runs.selectionModel().select(
                    table_model(self.runs).index(i, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        interrupted = sum(1 for r in rows if r["state"] == "interrupted")
        self.notice.setText(
            f"{interrupted} run(s) were interrupted: the app closed or stopped mid-run. "
            "Every trial checkpointed before that is kept and can be decrypted."
            if interrupted
            else ""
        )
        self.notice.setVisible(bool(interrupted))
        has_runs = bool(rows)
        for name in ("decryptButton", "decryptAllButton", "exportButton"):
            self.buttons[name].setEnabled(has_runs and self.job is None)
        self.show_selected()

    def update_mfa_label(self) -> None:
        session = self.state.session
        self.mfa_label.setText(mfa_status.describe(session.username, session.fresh_until()))

    # -- decrypting --------------------------------------------------------------------------
    def _selected_ids(self) -> list[str]:
        model = table_model(self.runs)
        return [model.row(i)["run_session_id"] for i in selected_rows(self.runs)]

    def decrypt_selected(self) -> Job | None:
        return self.decrypt(self._selected_ids())

    def decrypt_all(self) -> Job | None:
        return self.decrypt([r["run_session_id"] for r in table_model(self.runs).rows])

    def decrypt(self, run_ids: list[str]) -> Job | None:
        if not run_ids or self.job is not None:
            return None
        session = self.state.session
        names = queries.usernames(self.state.ctx, self.state.prefs.last_username)
        if not ensure_unlocked(self, session, names):
            self.update_mfa_label()
            return None
        self._remember_user()
        self.update_mfa_label()

        def work(control: JobControl) -> list[dict[str, Any]]:
            return session.decrypt_many(
                run_ids,
                progress=lambda done, total: control.progress(done, total),
                cancelled=lambda: control.cancelled,
            )

        def connect(job: Job) -> None:
            job.signals.progress.connect(lambda done, _total, _t: self.progress.setValue(done))
            job.signals.succeeded.connect(self._decrypted)
            job.signals.failed.connect(lambda exc: show_error(self, "Decryption failed", exc))
            job.signals.finished.connect(self._job_done)

        self.progress.setRange(0, len(run_ids))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.job = self.state.jobs.start(work, connect)
        self.refresh_runs()
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.control.cancel()

    def _decrypted(self, answers: list[dict[str, Any]]) -> None:
        for answer in answers:
            self.decrypted[answer["run_session_id"]] = answer
        self.show_selected()

    def _job_done(self) -> None:
        self.job = None
        self.progress.hide()
        self.cancel_button.hide()
        self.refresh_runs()

    def _remember_user(self) -> None:
        name = self.state.session.username
        if name and name != self.state.prefs.last_username:
            self.state.prefs.last_username = name
            self.state.save_prefs()

    def show_selected(self) -> None:
        ids = self._selected_ids()
        answer = next((self.decrypted[i] for i in ids if i in self.decrypted), None)
        model = table_model(self.trials)
        if answer is None:
            model.set_columns([])
            model.set_rows([])
            self.summary.setText("Select runs and decrypt them to see their trials." if ids else "")
            return
        trials = answer.get("trials") or []
        model.set_columns(trial_columns(trials))
        model.set_rows(trials)
        self.trials.resizeColumnsToContents()
        summary = answer.get("result_payload", {}).get("_summary") or {}
        state = "interrupted" if answer.get("interrupted") else answer["status"]
        self.summary.setText(
            f"<b>Run {answer['run_session_id'][:8]}</b> ({state})<br>"
            f"Participant key {answer['participant_key'][:16]}…<br>"
            f"{answer['trial_count']} trial(s)<br>"
            f"<pre>{escape(json.dumps(summary, indent=1)[:1500])}</pre>"
        )

    def lock(self) -> None:
        """Forget the unlocked key now (it also goes when the session idles out)."""
        self.state.session.sign_out()
        self.decrypted.clear()
        self.show_selected()
        self.update_mfa_label()

    def request_export(self) -> None:
        slug = self.study.currentText()
        if slug:
            self.export_requested.emit(slug, self._selected_ids())
