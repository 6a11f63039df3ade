"""Small pieces the dialogs share: an inline error label and a TOTP QR code image."""

from __future__ import annotations

import io

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QLineEdit


class ErrorLabel(QLabel):
    """One plain sentence in red under the form; empty when there is nothing wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("errorLabel")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def show_error(self, text: str) -> None:
        self.setText(text)

    def clear_error(self) -> None:
        self.setText("")


def password_field(placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


def code_field() -> QLineEdit:
    field = QLineEdit()
    field.setPlaceholderText("6-digit code from your authenticator app")
    field.setMaxLength(8)
    field.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
    return field


def qr_pixmap(uri: str, scale: int = 5, ratio: int = 2) -> QPixmap:
    """Drawn at `ratio` times the size and marked so: sharp on HiDPI screens. Always dark on
    white (authenticator apps read that best), whatever the theme."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=scale * ratio, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    pixmap.setDevicePixelRatio(ratio)
    return pixmap
