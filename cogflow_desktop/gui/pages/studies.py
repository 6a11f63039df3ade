"""Studies: what is published here, how many runs each has, and where their sync stands."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cogflow_desktop import audit
from cogflow_desktop.gui import charts, queries, theme
from cogflow_desktop.gui.errors import show_error
from cogflow_desktop.gui.importing import import_config_file
from cogflow_desktop.gui.pages.base import (
    Page,
    button_row,
    make_table,
    select_row,
    selected_rows,
    table_model,
)
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.viewmodels.table import Column, short_time
from cogflow_desktop.services.errors import ServiceError


def _rate(value: object) -> str:
    return "–" if not isinstance(value, float) else f"{100 * value:.0f} %"


COLUMNS = [
    Column("study_slug", "Study"),
    Column("latest_config_version", "Version"),
    Column("run_count", "Runs"),
    Column("runs_last_7_days", "Last 7 days"),
    Column("completion_rate", "Completed", _rate),
    Column("last_activity_at", "Last activity (UTC)", short_time),
    Column("last_sync_at", "Last sync (UTC)", short_time),
    Column("problems", "Needs attention"),
    Column("sync_summary", "Sync"),
]
DAYS = 14


def _card(title: str, name: str) -> tuple[QFrame, QLabel, QLabel]:
    frame = QFrame()
    frame.setObjectName("statCard")
    value = QLabel("–")
    value.setObjectName(name)
    value.setProperty("role", "stat")
    caption = QLabel(title)
    caption.setProperty("role", "muted")
    detail = QLabel("")
    detail.setProperty("role", "muted")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 8, 12, 8)
    layout.setSpacing(2)
    layout.addWidget(caption)
    layout.addWidget(value)
    layout.addWidget(detail)
    return frame, value, detail


def runs_per_day_chart(per_day: list[int], scope: str, today: date) -> QChart:
    chart = charts.new_chart(f"Runs per day, last {len(per_day)} days ({scope})")
    bars = QBarSet("Runs")
    bars.setColor(QColor(charts.BLUE))
    bars.append([float(n) for n in per_day])
    series = QBarSeries()
    series.append(bars)
    chart.addSeries(series)
    x = QBarCategoryAxis()
    first = today - timedelta(days=len(per_day) - 1)
    x.append([(first + timedelta(days=i)).strftime("%d %b") for i in range(len(per_day))])
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(x)
    y = charts.value_axis("Runs", 0, max([*per_day, 1]))
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(y)
    chart.legend().hide()
    return chart


class StudiesPage(Page):
    title = "Studies"
    open_builder = Signal(str)
    run_study = Signal(str)
    show_results = Signal(str)
    export_study = Signal(str)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.table = make_table(COLUMNS, "studiesTable")
        self.table.doubleClicked.connect(lambda _i: self._emit(self.show_results))
        self.empty_hint = QLabel(
            "No studies yet: build one in the Builder, or import a config file exported "
            "from the CogFlow Builder."
        )
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setWordWrap(True)
        row, self.buttons = button_row(
            ("runButton", "Run a participant…", lambda: self._emit(self.run_study)),
            ("builderButton", "Open in Builder", lambda: self._emit(self.open_builder)),
            ("resultsButton", "Results", lambda: self._emit(self.show_results)),
            ("exportButton", "Export…", lambda: self._emit(self.export_study)),
            ("importButton", "Import config…", self.choose_import),
            ("refreshButton", "Refresh", self.refresh),
        )
        cards = QHBoxLayout()
        cards.setSpacing(theme.SPACE)
        self.cards: dict[str, tuple[QLabel, QLabel]] = {}
        for title, name in (
            ("Studies", "statStudies"),
            ("Runs in the last 7 days", "statWeek"),
            ("Completion rate", "statCompletion"),
            ("Last sync", "statSync"),
            ("Needs attention", "statProblems"),
        ):
            frame, value, detail = _card(title, name)
            self.cards[name] = (value, detail)
            cards.addWidget(frame, 1)
        self.per_day = charts.ChartPanel("runsPerDay")
        self.per_day.view.setMinimumHeight(150)
        self.per_day.setMaximumHeight(230)
        self.layout_.addLayout(cards)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.empty_hint)
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.per_day)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

    def refresh(self) -> None:
        keep = self.selected_slug()
        rows = queries.study_rows(self.state.ctx)
        table_model(self.table).set_rows(rows)
        self.table.resizeColumnsToContents()
        self.empty_hint.setVisible(not rows)
        slugs = [r["study_slug"] for r in rows]
        if rows:
            select_row(self.table, slugs.index(keep) if keep in slugs else 0)
        self._fill_cards(rows)
        self._selection_changed()

    def _fill_cards(self, rows: list[dict[str, Any]]) -> None:
        def put(name: str, value: str, detail: str = "") -> None:
            self.cards[name][0].setText(value)
            self.cards[name][1].setText(detail)

        completed = sum(r.get("completed", 0) for r in rows)
        ended = sum(r.get("completed", 0) + r.get("failed", 0) + r.get("interrupted", 0)
                    for r in rows)  # fmt: skip
        syncs = [r["last_sync_at"] for r in rows if r.get("last_sync_at")]
        problems = [f"{r['study_slug']}: {r['problems']}" for r in rows if r.get("problems")]
        put("statStudies", str(len(rows)), f"{sum(r['run_count'] for r in rows)} runs in all")
        put("statWeek", str(sum(r.get("runs_last_7_days", 0) for r in rows)))
        put(
            "statCompletion",
            _rate(completed / ended if ended else None),
            f"{completed} of {ended} finished runs",
        )
        put("statSync", short_time(max(syncs)) if syncs else "never", "UTC" if syncs else "")
        put("statProblems", str(len(problems)), problems[0] if problems else "nothing")

    def _selection_changed(self) -> None:
        self._update_buttons()
        rows = table_model(self.table).rows
        slug = self.selected_slug()
        chosen = [r for r in rows if r["study_slug"] == slug] if slug else rows
        per_day = [0] * DAYS
        for r in chosen:
            for i, n in enumerate(r.get("per_day") or []):
                per_day[i] += n
        today = datetime.now(UTC).date()
        self.per_day.set_chart(runs_per_day_chart(per_day, slug or "all studies", today))

    def selected_slug(self) -> str | None:
        rows = selected_rows(self.table)
        model = table_model(self.table)
        return model.row(rows[0])["study_slug"] if rows and rows[0] < model.rowCount() else None

    def select_slug(self, slug: str) -> None:
        for i, row in enumerate(table_model(self.table).rows):
            if row["study_slug"] == slug:
                select_row(self.table, i)

    def _update_buttons(self) -> None:
        has = self.selected_slug() is not None
        for name in ("runButton", "builderButton", "resultsButton", "exportButton"):
            self.buttons[name].setEnabled(has)

    def _emit(self, signal: Signal) -> None:  # type: ignore[type-arg]
        slug = self.selected_slug()
        if slug is not None:
            signal.emit(slug)  # type: ignore[attr-defined]

    def choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a Builder config", "", "CogFlow config (*.json)"
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> str | None:
        actor = self.state.session.username or audit.ANONYMOUS_ACTOR
        try:
            answer = import_config_file(self.state.ctx, path, actor=actor)
        except ServiceError as exc:
            show_error(self, "Import failed", exc)
            return None
        self.state.changed()
        self.select_slug(answer["study_slug"])
        return str(answer["study_slug"])
