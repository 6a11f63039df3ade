"""Help > About: what this is, the versions it runs on, and the licences of what it ships."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from cogflow_desktop.gui import about_info


def about_html(resources: Path) -> str:
    versions = "".join(
        f"<tr><th align='left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
        for k, v in about_info.versions(resources)
    )
    licences = "".join(
        f"<tr><td>{escape(n)}</td><td>{escape(v)}</td><td>{escape(lic)}</td></tr>"
        for n, v, lic in about_info.licences()
    )
    return (
        "<h2>CogFlow Desktop</h2>"
        "<p>Runs cognitive experiments offline on lab computers; every trial is sealed from "
        "the moment it ends, and results sync to the lab's central CogFlow server.</p>"
        f"<h3>Versions</h3><table cellpadding='3'>{versions}</table>"
        "<h3>Licences of the software it ships</h3>"
        "<table cellpadding='3'><tr><th align='left'>Package</th><th align='left'>Version"
        f"</th><th align='left'>Licence</th></tr>{licences}</table>"
    )


class AboutDialog(QDialog):
    def __init__(self, resources: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About CogFlow Desktop")
        self.resize(560, 620)
        self.text = QTextBrowser()
        self.text.setObjectName("aboutText")
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(about_html(resources))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
