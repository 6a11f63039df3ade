"""Serve the Flask app with waitress on loopback, in the foreground (`serve`) or on a
background thread (the Qt app, tests), with a clean, prompt shutdown."""

from __future__ import annotations

import json
import logging
import threading

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import ErrorTask

from cogflow_desktop.api import create_app
from cogflow_desktop.services.context import Context
from cogflow_desktop.settings import DEFAULT_HOST

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
log = logging.getLogger(__name__)


class PortInUse(Exception):
    pass


class _JsonErrorTask(ErrorTask):
    """Errors waitress answers before the app sees the request (a body beyond its limit, a
    malformed request line) in the app's JSON shape, not as a plain-text page."""

    def execute(self) -> None:
        error = self.request.error
        detail = "The request body is too large." if error.code == 413 else f"{error.reason}."
        body = json.dumps({"detail": detail}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _JsonErrorChannel(HTTPChannel):
    error_task_class = _JsonErrorTask


class EmbeddedServer:
    def __init__(
        self, context: Context, host: str = DEFAULT_HOST, port: int = 0, threads: int = 8
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError("The embedded server listens on loopback only (127.0.0.1 or ::1).")
        self.context = context
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._app = create_app(context, port)
        try:
            self._server = create_server(
                self._app,
                host=host,
                port=port,
                threads=threads,
                ident="cogflow-desktop",
                # Flask answers oversize bodies with a JSON 413; waitress only backs it up.
                max_request_body_size=context.settings.max_body_bytes + 1024 * 1024,
                clear_untrusted_proxy_headers=True,
                channel_timeout=120,
            )
        except OSError as exc:
            raise PortInUse(f"Port {port} on {host} is already in use.") from exc
        self._server.channel_class = _JsonErrorChannel  # type: ignore[union-attr]
        self.host = host
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self._app.config["COGFLOW_PORT"] = self.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_until_stopped(self) -> None:
        """Run the I/O loop here until stop() is called (from a signal handler or thread)."""
        server = self._server
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=0.2, map=server._map, count=1)  # type: ignore[union-attr]
        finally:
            server.task_dispatcher.shutdown()  # type: ignore[union-attr]
            wasyncore.close_all(server._map)  # type: ignore[union-attr]

    @property
    def alive(self) -> bool:
        """Started, and its thread has not ended."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopped_on_purpose(self) -> bool:
        return self._stop.is_set()

    def _serve_logged(self) -> None:
        try:
            self.serve_until_stopped()
        except Exception:  # the app's watchdog (gui/runtime.py) notices and restarts it
            log.exception("The embedded server's thread stopped on an error")

    def start(self) -> EmbeddedServer:
        self._thread = threading.Thread(
            target=self._serve_logged, name="cogflow-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
