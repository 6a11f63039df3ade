"""The app's engine room, without Qt: the context, the embedded server and its health check."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
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
# The watchdog looks at the embedded server this often; a server whose thread died is restarted
# at once, one that stops answering its health check after this many looks in a row (a
# loaded machine may answer one late).
WATCHDOG_SECONDS = 2.0
UNHEALTHY_LOOKS = 3
log = logging.getLogger(__name__)


class StartupError(Exception):
    """The app cannot start; the message is one sentence a researcher can act on."""


@dataclass
class AppRuntime:
    ctx: Context
    server: EmbeddedServer
    app_token: str
    lock: InstanceLock | None = None
    watchdog: ServerWatchdog | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def stop(self) -> None:
        """Stop serving first (no request may touch a closing database), then close it."""
        if self.watchdog is not None:
            self.watchdog.stop()
        self.server.stop()
        self.ctx.close()
        if self.lock is not None:
            self.lock.release()  # last: another app may only start once this one is gone


class ServerWatchdog:
    """Restarts the embedded server when it stopped inside the app (an exception in its
    thread, a socket lost over sleep), on the same port: the pages' origin, and with it their
    sealed local buffers and session cookies, stays the same, so their queued checkpoints go
    through as soon as it answers again. `last_event` is the sentence for the status bar."""

    def __init__(self, runtime: AppRuntime, every: float = WATCHDOG_SECONDS) -> None:
        self.runtime = runtime
        self.every = every
        self.last_event: str | None = None
        self.restarts = 0
        self._unhealthy = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cogflow-watchdog", daemon=True)

    def start(self) -> ServerWatchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(15)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.check()
            except Exception:  # the watchdog itself must never die
                log.exception("The server watchdog failed")

    def check(self) -> None:
        server = self.runtime.server
        if server.stopped_on_purpose:  # the app is quitting, or a caller stopped it
            return
        if server.alive:
            self._unhealthy = 0 if _healthy(server.url) else self._unhealthy + 1
            if self._unhealthy < UNHEALTHY_LOOKS:
                return
        self._restart(server)

    def _restart(self, old: EmbeddedServer) -> None:
        port = old.port
        old.stop(timeout=5)
        try:
            server = EmbeddedServer(self.runtime.ctx, port=port).start()
            wait_healthy(server.url)
        except (PortInUse, StartupError) as exc:
            self.last_event = (
                f"The local server stopped and could not be restarted on port {port} ({exc}); "
                "every acknowledged trial is stored: quit CogFlow Desktop and start it again."
            )
            log.error("%s", self.last_event)
            return
        self.runtime.server = server
        self._unhealthy = 0
        self.restarts += 1
        self.last_event = (
            f"The local server stopped unexpectedly and was restarted at {time.strftime('%H:%M')}"
            "; the participant's page sends what it kept as soon as it answers."
        )
        log.warning("%s", self.last_event)


def _healthy(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as resp:
            return resp.status == 200 and json.loads(resp.read()).get("ok") is True
    except (OSError, ValueError, urllib.error.URLError):
        return False


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
    runtime = AppRuntime(ctx, server, token, lock)
    runtime.watchdog = ServerWatchdog(runtime).start()
    return runtime
