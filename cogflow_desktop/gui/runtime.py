"""The app's engine room, without Qt: the context, the embedded server and its health check."""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cogflow_desktop.api.server import EmbeddedServer, PortInUse
from cogflow_desktop.services.context import Context, open_context
from cogflow_desktop.services.instance_lock import DataFolderInUse, InstanceLock
from cogflow_desktop.settings import DEFAULT_PORT, Settings
from cogflow_desktop.store.backups import DatabaseDamaged

PORT_ENV = "COGFLOW_PORT"
ORIGINS_ENV = "COGFLOW_ALLOWED_ORIGINS"


class StartupError(Exception):
    """The app cannot start; the message is one sentence a researcher can act on."""


@dataclass
class AppRuntime:
    ctx: Context
    server: EmbeddedServer
    app_token: str
    lock: InstanceLock | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def stop(self) -> None:
        """Stop serving first (no request may touch a closing database), then close it."""
        self.server.stop()
        self.ctx.close()
        if self.lock is not None:
            self.lock.release()  # last: another app may only start once this one is gone


def preferred_port() -> int:
    raw = os.environ.get(PORT_ENV, "")
    if not raw:
        return DEFAULT_PORT
    try:
        return int(raw)
    except ValueError as exc:
        raise StartupError(f"{PORT_ENV} must be a whole number, not {raw!r}.") from exc


def app_settings(data_dir: Path | str | None, app_token: str, **overrides: object) -> Settings:
    """Settings for the app: writes need the per-launch token, and the web apps' dev servers
    may call in only when COGFLOW_ALLOWED_ORIGINS says so explicitly."""
    if ORIGINS_ENV not in os.environ:
        overrides.setdefault("extra_origins", ())
    return Settings.from_env(data_dir, app_token=app_token, **overrides)


def bind_server(ctx: Context, port: int) -> EmbeddedServer:
    """The preferred port when it is free, else any free one (a second app, a dev server)."""
    if port:
        try:
            return EmbeddedServer(ctx, port=port)
        except PortInUse:
            pass
    return EmbeddedServer(ctx, port=0)


def wait_healthy(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:
                if resp.status == 200 and json.loads(resp.read()).get("ok") is True:
                    return
                last_error = f"status {resp.status}"
        except (OSError, ValueError, urllib.error.URLError) as exc:
            last_error = str(exc)
        time.sleep(0.05)
    raise StartupError(f"The local server at {url} did not become healthy ({last_error}).")


def start_runtime(
    data_dir: Path | str | None = None, port: int | None = None, **overrides: object
) -> AppRuntime:
    token = secrets.token_urlsafe(32)
    settings = app_settings(data_dir, token, **overrides)
    # Before the database is opened: opening it flags open runs as interrupted, and those
    # could be another app's live runs.
    try:
        lock = InstanceLock(settings.data_dir, "the CogFlow Desktop app").acquire()
    except DataFolderInUse as exc:
        raise StartupError(str(exc)) from exc
    except OSError as exc:
        raise StartupError(
            f"The data folder {settings.data_dir} could not be used: {exc.strerror or exc}."
        ) from exc
    try:
        ctx = open_context(settings)
    except DatabaseDamaged as exc:  # one sentence naming the backup to restore
        lock.release()
        raise StartupError(str(exc)) from exc
    except Exception as exc:
        lock.release()
        raise StartupError(
            f"The data folder {settings.data_dir} could not be opened: {exc}"
        ) from exc
    try:
        server = bind_server(ctx, preferred_port() if port is None else port).start()
        wait_healthy(server.url)
    except Exception:
        ctx.close()
        lock.release()
        raise
    return AppRuntime(ctx, server, token, lock)
