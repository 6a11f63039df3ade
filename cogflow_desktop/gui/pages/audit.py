"""Audit: the security log, newest first, and whether its hash chain is intact."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from cogflow_desktop.gui import queries
from cogflow_desktop.gui.pages.base import Page, button_row, make_table, select_row, table_model
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.viewmodels.table import Column

COLUMNS = [
    Column("id", "#"),
    Column("created_at", "When (UTC)", lambda v: str(v).replace("T", " ")[:19]),
    Column("actor", "Who"),
    Column("action", "Action"),
    Column("outcome", "Outcome"),
    Column("target", "Target"),
    Column("client", "Client"),
    Column("details", "Details"),
]


def _role(label: QLabel, role: str) -> None:
    label.setProperty("role", role)
    label.style().unpolish(label)
    label.style().polish(label)


class AuditPage(Page):
    title = "Audit"

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.broken_id: int | None = None
        self.chain_label = QLabel()
        self.chain_label.setObjectName("chainLabel")
        self.chain_label.setWordWrap(True)
        row, self.buttons = button_row(
            ("verifyButton", "Verify chain", self.verify),
            ("refreshButton", "Refresh", self.refresh),
        )
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.chain_label)
        self.table = make_table(COLUMNS, "auditTable")
        table_model(self.table).set_highlight(self._colour)
        self.layout_.addWidget(self.table, 1)

    def _colour(self, row: dict[str, Any]) -> str | None:
        if self.broken_id is not None and row["id"] == self.broken_id:
            return "#f8d7da"
        return "#fff3cd" if row["outcome"] != "ok" else None

    def refresh(self) -> None:
        table_model(self.table).set_rows(queries.audit_rows(self.state.ctx))
        self.table.resizeColumnsToContents()

    def shown(self) -> None:
        self.refresh()
        self.verify()

    def verify(self) -> None:
        report = queries.verify_audit(self.state.ctx)
        self.broken_id = report.first_broken_id
        self.refresh()
        if report.ok:
            self.chain_label.setText(
                f"✔ Chain verified: all {report.rows_checked} events are intact and in order."
            )
            _role(self.chain_label, "ok")
        else:
            self.chain_label.setText(
                f"✘ The chain is broken at event {report.first_broken_id}: {report.problem}. "
                "Events from there on may have been changed or removed."
            )
            _role(self.chain_label, "danger")
            self._select(report.first_broken_id)

    def _select(self, event_id: int | None) -> None:
        for i, row in enumerate(table_model(self.table).rows):
            if row["id"] == event_id:
                select_row(self.table, i)
                self.table.scrollTo(table_model(self.table).index(i, 0))
