"""What pages share: a title, a refresh, tables and button rows built the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cogflow_desktop.gui import theme
from cogflow_desktop.gui.state import AppState
from cogflow_desktop.gui.viewmodels.table import Column, RowsModel


class Page(QWidget):
    title = ""
    icon_name = ""  # a name in icons.PATHS; the title in lower case when empty

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.layout_ = QVBoxLayout(self)
        margin = theme.PAGE_MARGIN
        self.layout_.setContentsMargins(margin, margin - 4, margin, theme.SPACE)
        self.layout_.setSpacing(theme.SPACE)
        heading = QLabel(self.title)
        heading.setObjectName("pageTitle")
        self.layout_.addWidget(heading)

    def refresh(self) -> None:
        """Reload what the page shows from the database (cheap; called when shown)."""

    def shown(self) -> None:
        self.refresh()


def scrolling(page: QWidget) -> QScrollArea:
    """`page` inside a frameless vertical scroll area that gives it the full width."""
    area = QScrollArea()
    area.setObjectName(f"{page.objectName() or type(page).__name__}Scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(page)
    return area


def make_table(columns: Sequence[Column], name: str, multi: bool = False) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(RowsModel(columns, view))
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def table_model(view: QTableView) -> RowsModel:
    model = view.model()
    assert isinstance(model, RowsModel)
    return model


def selected_rows(view: QTableView) -> list[int]:
    return sorted({i.row() for i in view.selectionModel().selectedRows()})


def select_row(view: QTableView, row: int) -> None:
    """Select one whole row, whatever the view's selection mode and focus."""
    model = view.model()
    if 0 <= row < model.rowCount():
        view.selectionModel().select(
            model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        view.scrollTo(model.index(row, 0))


def button_row(*buttons: tuple[str, str, Callable[[], None]]) -> tuple[QHBoxLayout, dict]:
    """(object name, label, slot) triples -> a layout and the buttons by name."""
    row = QHBoxLayout()
    row.setSpacing(theme.SPACE)
    made: dict[str, QPushButton] = {}
    for name, label, slot in buttons:
        button = QPushButton(label)
        button.setObjectName(name)
        button.clicked.connect(slot)
        row.addWidget(button)
        made[name] = button
    row.addStretch(1)
    return row, made
