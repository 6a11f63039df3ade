"""A read-only table model of dict rows with declared columns (one model class for every list)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from cogflow_desktop.gui import theme

Index = QModelIndex | QPersistentModelIndex
HIGHLIGHT_TEXT = "#1d2330"
DARK_TINT = 330  # percent: QColor.darker


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    fmt: Callable[[Any], str] | None = None


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def short_time(value: Any) -> str:
    """ISO timestamps shown to the minute, in UTC as stored."""
    text = display(value)
    return text[:16].replace("T", " ") if len(text) >= 16 else text


class RowsModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[dict[str, Any]] = []
        self._highlight: Callable[[dict[str, Any]], str | None] | None = None

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def set_columns(self, columns: Sequence[Column]) -> None:
        self.beginResetModel()
        self._columns = list(columns)
        self.endResetModel()

    def set_highlight(self, fn: Callable[[dict[str, Any]], str | None]) -> None:
        """fn(row) -> a colour name for rows that need attention, else None."""
        self._highlight = fn

    def row(self, i: int) -> dict[str, Any]:
        return self._rows[i]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self._rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = self._columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = row.get(col.key)
            return col.fmt(value) if col.fmt else display(value)
        if self._highlight is not None and role in (
            Qt.ItemDataRole.BackgroundRole,
            Qt.ItemDataRole.ForegroundRole,
        ):
            colour = self._highlight(row)
            if not colour:
                return None
            # Highlights are pale tints: in the dark theme the same hue, dark, under light text.
            if theme.is_dark():
                if role == Qt.ItemDataRole.BackgroundRole:
                    return QBrush(QColor(colour).darker(DARK_TINT))
                return None
            background = role == Qt.ItemDataRole.BackgroundRole
            return QBrush(QColor(colour if background else HIGHLIGHT_TEXT))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section].title
        return str(section + 1)


def trial_columns(trials: Sequence[dict[str, Any]], sample: int = 200) -> list[Column]:
    """Columns of decrypted trials: the shared vocabulary first, then whatever else appears."""
    first = ["trial_index", "rt_ms", "response", "correct", "stimulus_onset_ms", "ended_reason"]
    seen: list[str] = []
    for trial in trials[:sample]:
        for key in trial:
            if key not in seen:
                seen.append(key)
    ordered = [k for k in first if k in seen] + [k for k in seen if k not in first]
    return [Column(k, k) for k in ordered]
