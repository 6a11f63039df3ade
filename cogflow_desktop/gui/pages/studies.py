"""Studies: what is published here, how many runs each has, and where their sync stands."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from cogflow_desktop import audit
from cogflow_desktop.gui import queries
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

COLUMNS = [
    Column("study_slug", "Slug"),
    Column("study_name", "Name"),
    Column("latest_config_version", "Latest version"),
    Column("version_count", "Versions"),
    Column("run_count", "Runs"),
    Column("last_activity_at", "Last activity (UTC)", short_time),
    Column("sync_summary", "Sync"),
]


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
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.empty_hint)
        self.layout_.addWidget(self.table, 1)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

    def refresh(self) -> None:
        keep = self.selected_slug()
        rows = queries.study_rows(self.state.ctx)
        table_model(self.table).set_rows(rows)
        self.table.resizeColumnsToContents()
        self.empty_hint.setVisible(not rows)
        slugs = [r["study_slug"] for r in rows]
        if rows:
            select_row(self.table, slugs.index(keep) if keep in slugs else 0)
        self._update_buttons()

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
