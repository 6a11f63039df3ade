"""Light and dark themes, following the OS unless the researcher picks one, with one spacing
and type scale for every page. Fusion everywhere, so the app looks the same on Windows,
macOS and Linux and both palettes are complete."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")
# Spacing (px) and type scale (pt) the pages share.
SPACE = 8
PAGE_MARGIN = 16
TITLE_PT = 17
BASE_PT = 10

LIGHT = {
    "window": "#f6f7f9",
    "base": "#ffffff",
    "alt": "#f1f3f6",
    "text": "#1d2330",
    "muted": "#5b6474",
    "button": "#ffffff",
    "accent": "#2563c9",
    "accent_text": "#ffffff",
    "border": "#d5d9e0",
    "nav": "#eceff3",
    "notice": "#fff3cd",
    "notice_text": "#4d3b00",
    "danger": "#b00020",
    "ok": "#146c2e",
}
DARK = {
    "window": "#1e2127",
    "base": "#16181d",
    "alt": "#23262d",
    "text": "#e6e9ef",
    "muted": "#a3abb8",
    "button": "#2a2e36",
    "accent": "#5b9bff",
    "accent_text": "#0d1117",
    "border": "#3a3f4a",
    "nav": "#191c21",
    "notice": "#4a3c0b",
    "notice_text": "#ffe8a3",
    "danger": "#ff7b8a",
    "ok": "#6fdc8c",
}


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def colours(dark: bool) -> dict[str, str]:
    return DARK if dark else LIGHT


def is_dark() -> bool:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return False
    return bool(app.property("cogflowDark"))


def palette(c: dict[str, str]) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, key in (
        (role.Window, "window"),
        (role.WindowText, "text"),
        (role.Base, "base"),
        (role.AlternateBase, "alt"),
        (role.Text, "text"),
        (role.Button, "button"),
        (role.ButtonText, "text"),
        (role.ToolTipBase, "base"),
        (role.ToolTipText, "text"),
        (role.PlaceholderText, "muted"),
        (role.Highlight, "accent"),
        (role.HighlightedText, "accent_text"),
        (role.Link, "accent"),
    ):
        p.setColor(r, QColor(c[key]))
    for r in (role.Text, role.ButtonText, role.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(c["muted"]))
    return p


def stylesheet(c: dict[str, str]) -> str:
    return f"""
    QWidget {{ font-size: {BASE_PT}pt; }}
    QLabel#pageTitle {{ font-size: {TITLE_PT}pt; font-weight: 600; padding: 0 0 {SPACE // 2}px 0; }}
    QListWidget#nav {{ background: {c["nav"]}; border: none; padding: {SPACE}px 0; outline: 0; }}
    QListWidget#nav::item {{ padding: {SPACE}px {SPACE + 4}px; margin: 1px {SPACE}px;
        border-radius: 6px; color: {c["text"]}; }}
    QListWidget#nav::item:selected {{ background: {c["accent"]}; color: {c["accent_text"]}; }}
    QListWidget#nav::item:hover:!selected {{ background: {c["alt"]}; }}
    QPushButton {{ padding: 5px 12px; border: 1px solid {c["border"]}; border-radius: 5px;
        background: {c["button"]}; }}
    QPushButton:hover {{ border-color: {c["accent"]}; }}
    QPushButton:disabled {{ color: {c["muted"]}; }}
    QPushButton:default {{ background: {c["accent"]}; color: {c["accent_text"]};
        border-color: {c["accent"]}; }}
    QTableView {{ gridline-color: {c["border"]}; border: 1px solid {c["border"]};
        border-radius: 4px; }}
    QHeaderView::section {{ padding: 4px 6px; border: none;
        border-bottom: 1px solid {c["border"]}; background: {c["alt"]}; font-weight: 600; }}
    QTabWidget::pane {{ border: 1px solid {c["border"]}; border-radius: 4px; top: -1px; }}
    QLabel[role="notice"] {{ background: {c["notice"]}; color: {c["notice_text"]};
        padding: 6px 10px; border-radius: 4px; }}
    QLabel[role="muted"] {{ color: {c["muted"]}; }}
    QLabel#errorLabel {{ color: {c["danger"]}; }}
    QLabel[role="ok"] {{ color: {c["ok"]}; }}
    QLabel[role="danger"] {{ color: {c["danger"]}; font-weight: 600; }}
    QLabel[role="stat"] {{ font-size: {TITLE_PT}pt; font-weight: 600; }}
    QFrame#statCard {{ background: {c["base"]}; border: 1px solid {c["border"]};
        border-radius: 6px; }}
    QStatusBar {{ color: {c["muted"]}; }}
    """


def apply(app: QApplication, choice: str = "system") -> bool:
    """Set the style, palette and stylesheet; returns whether the dark theme is on."""
    dark = system_is_dark() if choice not in ("light", "dark") else choice == "dark"
    c = colours(dark)
    if not app.property("cogflowStyled"):  # once: replacing a live style can crash
        app.setStyle("Fusion")
        app.setProperty("cogflowStyled", True)
    app.setPalette(palette(c))
    app.setStyleSheet(stylesheet(c))
    app.setProperty("cogflowDark", dark)
    app.setProperty("cogflowTheme", choice)
    return dark


def follow_system(app: QApplication) -> None:
    """Re-apply when the OS switches between light and dark (if the choice is `system`)."""

    def changed(_scheme: object) -> None:
        if (app.property("cogflowTheme") or "system") == "system":
            apply(app, "system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(changed)
