"""Export options: format, target, and whether raw participant ids may leave (off by default)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from cogflow_desktop.export import FORMATS, ExportOptions
from cogflow_desktop.gui.dialogs.common import ErrorLabel

FORMAT_LABELS = {
    "csv": "CSV: one row per trial",
    "json": "JSON: runs with their trials",
    "bids": "BIDS dataset (a new folder)",
    "psychds": "Psych-DS dataset (a new folder)",
    "zip": "ZIP of all of them",
}
SUFFIX = {"csv": ".csv", "json": ".json", "bids": "", "psychds": "", "zip": ".zip"}


def default_target(folder: Path, slug: str, fmt: str) -> Path:
    return folder / f"{slug}-export{SUFFIX[fmt]}"


def path_problem(target: Path, fmt: str) -> str | None:
    """Why the export cannot be written there, in one sentence; None when it can."""
    if not str(target) or str(target) == ".":
        return "Choose where to save the export."
    target = target.expanduser()
    folder = target.parent
    if not folder.is_dir():
        return f"The folder {folder} does not exist; choose another one."
    if not os.access(folder, os.W_OK):
        return f"The folder {folder} cannot be written to; choose another one."
    if fmt == "bids" and target.exists():
        return f"{target} already exists; a BIDS export needs a new folder name."
    if fmt != "bids" and target.is_dir():
        return f"{target} is a folder; give a file name to export to."
    return None


class ExportDialog(QDialog):
    def __init__(
        self, slug: str, run_ids: list[str], folder: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(f"Export {slug}")
        self._slug = slug
        self._run_ids = tuple(run_ids)
        self._folder = folder
        self.format = QComboBox()
        self.format.setObjectName("format")
        for fmt in FORMATS:
            self.format.addItem(FORMAT_LABELS.get(fmt, fmt), fmt)
        self.target = QLineEdit(str(default_target(folder, slug, "csv")))
        self.target.setObjectName("target")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.format.currentIndexChanged.connect(self._format_changed)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target, 1)
        target_row.addWidget(browse)
        self.with_ids = QCheckBox("Include raw participant ids (recorded in the audit log)")
        self.with_ids.setObjectName("withIds")
        self.error = ErrorLabel()
        which = f"{len(run_ids)} selected run(s)" if run_ids else "every run of the study"
        form = QFormLayout(self)
        form.addRow(QLabel(f"Exports {which}, decrypted."))
        form.addRow("Format", self.format)
        form.addRow("Save as", target_row)
        form.addRow(self.with_ids)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _fmt(self) -> str:
        return str(self.format.currentData())

    def _format_changed(self) -> None:
        current = Path(self.target.text() or str(self._folder))
        self.target.setText(str(default_target(current.parent, self._slug, self._fmt())))

    def _browse(self) -> None:
        if not SUFFIX[self._fmt()]:  # folder formats
            path = QFileDialog.getExistingDirectory(self, "Folder to create the export in")
            if path:
                self.target.setText(str(default_target(Path(path), self._slug, self._fmt())))
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.target.text())
        if path:
            self.target.setText(path)

    def _check(self) -> None:
        problem = path_problem(Path(self.target.text().strip()), self._fmt())
        if problem:
            self.error.show_error(problem)
            return
        self.error.clear_error()
        self.accept()

    def options(self) -> ExportOptions:
        return ExportOptions(
            study_slug=self._slug,
            format=self._fmt(),
            out=Path(self.target.text().strip()),
            run_ids=self._run_ids,
            include_participant_ids=self.with_ids.isChecked(),
        )
