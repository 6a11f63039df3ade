"""Results: a study's runs (interrupted ones say so), decrypted on demand after a TOTP code,
with a readable summary, the trials, and charts per run or for every decrypted run."""

from __future__ import annotations

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
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cogflow_desktop.gui import analysis, charts, mfa_status, queries
from cogflow_desktop.gui.dialogs.unlock import ensure_unlocked
from cogflow_desktop.gui.errors import show_error
from cogflow_desktop.gui.pages.base import Page, button_row, make_table, selected_rows, table_model
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.viewmodels.table import Column, short_time, trial_columns
from cogflow_desktop.gui.workers import Job, JobControl

RUN_COLUMNS = [
    Column("run_session_id", "Run", lambda v: str(v)[:8]),
    Column("state", "Status"),
    Column("participant", "Participant"),
    Column("trial_count", "Trials"),
    Column("decrypted", "Decrypted", lambda v: "✔" if v else ""),
    Column("started_at", "Started (UTC)", short_time),
    Column("completed_at", "Ended (UTC)", short_time),
    Column("config_version_label", "Version"),
    Column("sync_state", "Sync"),
    Column("sync_reason", "Sync problem"),
]
ROW_COLOURS = {"interrupted": "#fff3cd", "failed": "#f8d7da"}
THIS_RUN, ALL_RUNS = "This run", "All decrypted runs"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f} ms"


def summary_html(answer: dict[str, Any]) -> str:
    """The run as a researcher reads it: who, what happened, how well, on what screen."""
    trials = answer.get("trials") or []
    s = analysis.summarise(trials)
    payload = answer.get("result_payload") or {}
    fp = analysis.fingerprint(answer["run_session_id"][:8], payload)
    state = "interrupted" if answer.get("interrupted") else answer["status"]
    participant = answer.get("participant_external_id")
    rows = [
        ("Run", f"{answer['run_session_id']}"),
        ("Status", state),
        ("Participant", participant if participant is not None else "–"),
        ("Participant key", f"{answer['participant_key'][:16]}…"),
        ("Version", answer.get("config_version_label") or "–"),
        ("Trials", f"{s.trials} recorded, {s.task_trials} of the task"),
        ("Accuracy", _pct(s.accuracy)),
        ("Mean / median RT", f"{_ms(s.mean_rt_ms)} / {_ms(s.median_rt_ms)}"),
        ("Timeouts", str(s.timeouts)),
        ("False starts", str(s.false_starts)),
        ("Refresh rate", "–" if fp.refresh_hz is None else f"{fp.refresh_hz:.2f} Hz"),
        ("Dropped frames", "–" if fp.dropped_frames is None else str(fp.dropped_frames)),
        ("Frame time SD", "–" if fp.frame_ms_sd is None else f"{fp.frame_ms_sd:.2f} ms"),
        ("Screen", fp.screen or "–"),
    ]
    if payload.get("abort_reason"):
        rows.append(("Ended because", str(payload["abort_reason"])))
    body = "".join(
        f"<tr><th align='left' style='padding-right:12px'>{escape(k)}</th>"
        f"<td>{escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table cellspacing='0' cellpadding='3'>{body}</table>"


class ChartsTab(QWidget):
    """The four pictures, for the selected run or every decrypted run of the study."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scope = QComboBox()
        self.scope.setObjectName("chartScope")
        self.scope.addItems([THIS_RUN, ALL_RUNS])
        self.which = QComboBox()
        self.which.setObjectName("chartKind")
        self.which.addItems(
            ["RT distribution", "Accuracy and RT by condition", "Trial timeline", "Timing"]
        )
        self.field = QComboBox()
        self.field.setObjectName("conditionField")
        self.field.setToolTip("The trial field that splits trials into conditions")
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.which)
        top.addWidget(QLabel("for"))
        top.addWidget(self.scope)
        self.field_label = QLabel("by")
        top.addWidget(self.field_label)
        top.addWidget(self.field)
        top.addStretch(1)
        self.panel = charts.ChartPanel("chartPanel")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.panel, 1)
        self._run: dict[str, Any] | None = None
        self._all: list[dict[str, Any]] = []
        for box in (self.scope, self.which, self.field):
            box.currentIndexChanged.connect(lambda _i: self.redraw())

    def set_data(self, run: dict[str, Any] | None, every: list[dict[str, Any]]) -> None:
        self._run, self._all = run, every
        self.redraw()

    def _answers(self) -> tuple[list[dict[str, Any]], str]:
        if self.scope.currentText() == THIS_RUN and self._run is not None:
            return [self._run], f"run {self._run['run_session_id'][:8]}"
        return self._all, f"{len(self._all)} run(s)"

    def redraw(self) -> None:
        answers, scope = self._answers()
        trials = [t for a in answers for t in (a.get("trials") or [])]
        kind = self.which.currentIndex()
        fields = analysis.condition_fields(trials)
        current = self.field.currentText()
        self.field.blockSignals(True)
        self.field.clear()
        self.field.addItems(fields)
        if current in fields:
            self.field.setCurrentText(current)
        self.field.blockSignals(False)
        self.field.setVisible(kind == 1)
        self.field_label.setVisible(kind == 1)
        if not answers:
            chart = charts.empty_chart("Charts", "decrypt runs to see them")
        elif kind == 0:
            chart = charts.rt_distribution(analysis.rts(trials), scope)
        elif kind == 1:
            field = self.field.currentText()
            chart = (
                charts.by_condition(analysis.by_condition(trials, field), field, scope)
                if field
                else charts.empty_chart("By condition", "the trials carry no condition field")
            )
        elif kind == 2:
            chart = charts.trial_timeline(analysis.timeline(trials), scope)
        else:
            prints = [
                analysis.fingerprint(a["run_session_id"][:8], a.get("result_payload") or {})
                for a in answers
            ]
            chart = charts.timing_fingerprint(prints, scope)
        self.panel.set_chart(chart)


class ResultsPage(Page):
    title = "Results"
    icon_name = "results"
    export_requested = Signal(str, list)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.decrypted: dict[str, dict[str, Any]] = {}
        self.job: Job | None = None
        self.study = QComboBox()
        self.study.setObjectName("studyCombo")
        self.study.setMinimumContentsLength(16)
        self.study.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.study.currentTextChanged.connect(lambda _t: self._study_changed())
        self.mfa_label = QLabel()
        self.mfa_label.setObjectName("mfaLabel")
        self.mfa_label.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Study"))
        top.addWidget(self.study, 1)
        top.addWidget(self.mfa_label, 2)
        self.layout_.addLayout(top)
        self.notice = QLabel()
        self.notice.setObjectName("interruptedNotice")
        self.notice.setWordWrap(True)
        self.notice.setProperty("role", "notice")
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
        self.decrypted_label = QLabel()
        self.decrypted_label.setObjectName("decryptedLabel")
        self.decrypted_label.setWordWrap(True)
        self.layout_.addWidget(self.decrypted_label)
        self.runs = make_table(RUN_COLUMNS, "runsTable", multi=True)
        table_model(self.runs).set_highlight(lambda r: ROW_COLOURS.get(r["state"]))
        self.runs.selectionModel().selectionChanged.connect(lambda *_: self.show_selected())
        self.summary = QTextBrowser()
        self.summary.setObjectName("runSummary")
        self.summary.setOpenLinks(False)
        self.trials = make_table([], "trialsTable")
        self.charts = ChartsTab()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("resultTabs")
        self.tabs.addTab(self.summary, "Summary")
        self.tabs.addTab(self.trials, "Trials")
        self.tabs.addTab(self.charts, "Charts")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.runs)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
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

    def _study_changed(self) -> None:
        self.decrypted_label.setText("")
        self.refresh_runs()

    def refresh_runs(self) -> None:
        slug = self.study.currentText()
        keep = set(self._selected_ids())
        rows = queries.run_rows(self.state.ctx, slug) if slug else []
        for row in rows:
            answer = self.decrypted.get(row["run_session_id"])
            row["decrypted"] = answer is not None
            known = answer.get("participant_external_id") if answer else None
            row["participant"] = known if known is not None else (
                f"key {row['participant_key_preview']}…"
            )
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
            answers = session.decrypt_many(
                run_ids,
                progress=lambda done, total: control.progress(done, total),
                cancelled=lambda: control.cancelled,
            )
            for answer in answers:  # behind the same fresh code as the results themselves
                answer["participant_external_id"] = session.participant_id(
                    answer["run_session_id"]
                )
            return answers

        def connect(job: Job) -> None:
            job.signals.progress.connect(lambda done, _total, _t: self.progress.setValue(done))
            job.signals.succeeded.connect(self._decrypted)
            job.signals.cancelled.connect(
                lambda: self.decrypted_label.setText("Decryption cancelled; nothing was shown.")
            )
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
        trials = sum(len(a.get("trials") or []) for a in answers)
        ids = ", ".join(a["run_session_id"][:8] for a in answers[:8])
        more = f" and {len(answers) - 8} more" if len(answers) > 8 else ""
        self.decrypted_label.setText(
            f"Decrypted {len(answers)} run(s) with {trials} trial(s): {ids}{more}. "
            "Select a run for its summary, trials and charts."
        )
        if not self._selected_ids() and answers:
            self._select_ids([answers[0]["run_session_id"]])

    def _select_ids(self, ids: list[str]) -> None:
        model = table_model(self.runs)
        for i, row in enumerate(model.rows):
            if row["run_session_id"] in ids:
                self.runs.selectionModel().select(
                    model.index(i, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )

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

    def _study_answers(self) -> list[dict[str, Any]]:
        ids = [r["run_session_id"] for r in table_model(self.runs).rows]
        return [self.decrypted[i] for i in ids if i in self.decrypted]

    def show_selected(self) -> None:
        ids = self._selected_ids()
        answer = next((self.decrypted[i] for i in ids if i in self.decrypted), None)
        model = table_model(self.trials)
        self.charts.set_data(answer, self._study_answers())
        if answer is None:
            model.set_columns([])
            model.set_rows([])
            self.summary.setHtml(
                "<p>Select runs and decrypt them to see their summary, trials and charts.</p>"
                if ids
                else "<p>Select a run.</p>"
            )
            return
        trials = answer.get("trials") or []
        model.set_columns(trial_columns(trials))
        model.set_rows(trials)
        self.trials.resizeColumnsToContents()
        self.summary.setHtml(summary_html(answer))

    def lock(self) -> None:
        """Forget the unlocked key now (it also goes when the session idles out)."""
        self.state.session.sign_out()
        self.decrypted.clear()
        self.decrypted_label.setText("")
        self.refresh_runs()
        self.update_mfa_label()

    def request_export(self) -> None:
        slug = self.study.currentText()
        if slug:
            self.export_requested.emit(slug, self._selected_ids())
