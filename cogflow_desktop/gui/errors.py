"""Every failure the researcher sees: one plain sentence, and what caused it one click away.

Exceptions raised by this project's own code (services, sync, export, keyring helpers...) carry
a sentence written for the user, so that sentence is shown as it is. Anything else is a bug or
an environment problem: a generic sentence, with the exception's own words under "details" and
the traceback only in the app log."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from cogflow_desktop.gui.researcher import Cancelled
from cogflow_desktop.gui.runtime import StartupError
from cogflow_desktop.services.errors import ServiceError

log = logging.getLogger(__name__)


OWN_PACKAGE = "cogflow_desktop."


def is_own_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(OWN_PACKAGE)


def plain_sentence(exc: BaseException) -> str:
    """What went wrong, in words a researcher can act on; unknown errors stay generic."""
    if isinstance(exc, ServiceError):
        text = exc.message
    elif isinstance(exc, (StartupError, Cancelled)) or is_own_error(exc):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = f"A file or network operation failed: {exc.strerror or exc}"
    else:
        text = "Something unexpected went wrong; the details say what, and the app log has more."
    text = text.strip() or "Something went wrong."
    return text if text.endswith((".", "!", "?")) else text + "."


def details_of(exc: BaseException) -> str:
    """The chain of causes in words, never a traceback (that goes to the app log)."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        words = str(current).strip() or "(no message)"
        lines.append(f"{'Caused by ' if lines else ''}{type(current).__name__}: {words}")
        current = current.__cause__ or current.__context__
    return "\n".join(lines)


def traceback_of(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _own_words(exc: BaseException) -> str:
    if isinstance(exc, ServiceError) or is_own_error(exc):
        return plain_sentence(exc)
    return ""


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
        sentence = plain_sentence(exc)
        # A sentence of our own says it all; an unexpected error shows its words too.
        details = "" if sentence == _own_words(exc) else details_of(exc)
        log.warning("%s: %s", title, sentence, exc_info=exc)
    else:
        sentence, details = exc, ""
        log.warning("%s: %s", title, sentence)
    box = message_box(parent, title, sentence, details)
    box.setObjectName("errorBox")
    box.open()
    return box
