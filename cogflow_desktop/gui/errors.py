"""Every failure the researcher sees: one plain sentence, the details one click away."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from cogflow_desktop.gui.researcher import Cancelled
from cogflow_desktop.gui.runtime import StartupError
from cogflow_desktop.services.errors import ServiceError

log = logging.getLogger(__name__)


def plain_sentence(exc: BaseException) -> str:
    """What went wrong, in words a researcher can act on; unknown errors stay generic."""
    if isinstance(exc, ServiceError):
        text = exc.message
    elif isinstance(exc, (StartupError, Cancelled)):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = f"A file or network operation failed: {exc.strerror or exc}"
    else:
        text = "Something went wrong; the details say what."
    text = text.strip() or "Something went wrong."
    return text if text.endswith((".", "!", "?")) else text + "."


def details_of(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def message_box(
    parent: QWidget | None, title: str, sentence: str, details: str = ""
) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(sentence)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    return box


def show_error(parent: QWidget | None, title: str, exc: BaseException | str) -> QMessageBox:
    """Show (non-blocking, so tests and long runs never hang on it) and log the error."""
    if isinstance(exc, BaseException):
        sentence, details = plain_sentence(exc), details_of(exc)
        log.warning("%s: %s", title, sentence, exc_info=exc)
    else:
        sentence, details = exc, ""
        log.warning("%s: %s", title, sentence)
    box = message_box(parent, title, sentence, details)
    box.setObjectName("errorBox")
    box.open()
    return box
