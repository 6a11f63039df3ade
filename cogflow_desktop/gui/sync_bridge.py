"""The Sync page's link to the sync engine (no Qt). Until the engine is installed, sync says so."""

from __future__ import annotations

import importlib.util
from typing import Any

from cogflow_desktop.services.context import Context
from cogflow_desktop.services.errors import BadRequest


def available() -> bool:
    return importlib.util.find_spec("cogflow_desktop.sync.engine") is not None


def problem(url: str, username: str, password: str | None) -> str | None:
    if not available():
        return "Sync is not part of this installation yet."
    if not url:
        return "Type the central server's address first."
    if not username or not password:
        return "Type your username and password for the central server first."
    return None


def run_sync(ctx: Context, url: str, username: str, password: str, control: Any) -> Any:
    raise BadRequest("Sync is not part of this installation yet.")


def describe(summary: Any) -> str:
    return "Sync finished."
