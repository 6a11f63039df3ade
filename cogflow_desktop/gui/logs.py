"""The app log: a rotating file under the data folder (web page console messages go here too)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_NAME = "cogflow-desktop.log"
_HANDLER_ATTR = "_cogflow_app_log"


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_NAME


def setup_logging(data_dir: Path, level: int = logging.INFO) -> Path:
    """Attach the rotating file handler once per data folder (tests open several apps)."""
    path = log_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_ATTR, False):
            if Path(handler.baseFilename) == path:  # type: ignore[attr-defined]
                return path
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    setattr(handler, _HANDLER_ATTR, True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return path


def close_logging() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_ATTR, False):
            root.removeHandler(handler)
            handler.close()
