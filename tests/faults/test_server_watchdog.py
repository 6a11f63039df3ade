"""The embedded server stops inside the app, for real: its listening socket is closed under it,
so the serving thread dies on the error (as when a socket is lost over sleep). The app's
watchdog notices within seconds and restarts it on the same port, and a page's queued
checkpoint goes through; when another program took the port meanwhile, it says so in one
sentence."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fault_helpers import checkpoint, publish_and_start, trial

from cogflow_desktop.api.guards import APP_TOKEN_HEADER
from cogflow_desktop.gui.runtime import UNHEALTHY_LOOKS, AppRuntime, start_runtime
from cogflow_desktop.services import users

WAIT_SECONDS = 60


@pytest.fixture()
def runtime(tmp_path: Path) -> Iterator[AppRuntime]:
    rt = start_runtime(tmp_path / "data", port=0)
    users.create_user(rt.ctx, "lab", "a long lab password")  # results are sealed to it
    yield rt
    rt.stop()


def _lose_the_socket(rt: AppRuntime) -> int:
    """Close the server's listening socket under it. Its loop then fails on the dead socket:
    the thread ends, or (waitress closing the failed channel) runs on serving nothing."""
    server = rt.server
    port = server.port
    server._server.socket.close()  # type: ignore[union-attr]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{rt.url}/healthz", timeout=10)
    return port


def _until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_dead_server_thread_is_restarted_on_the_same_port(runtime: AppRuntime) -> None:
    url = runtime.url
    app = {APP_TOKEN_HEADER: runtime.app_token}  # as the app's own pages send it
    run_id = publish_and_start(url, app)
    assert checkpoint(url, run_id, [trial(0)], 0, app).status_code == 200
    port = _lose_the_socket(runtime)
    with pytest.raises(requests.ConnectionError):
        checkpoint(url, run_id, [trial(1)], 1, app)  # the page's next attempt fails...
    _until(lambda: runtime.watchdog is not None and runtime.watchdog.restarts == 1,
           "the watchdog did not restart the server")  # fmt: skip
    assert runtime.server.port == port and runtime.url == url
    resent = checkpoint(url, run_id, [trial(1)], 1, app)  # ...and its retry is stored
    assert resent.status_code == 200, resent.text
    assert runtime.watchdog is not None
    event = runtime.watchdog.last_event or ""
    assert event.startswith("The local server stopped unexpectedly and was restarted")
    assert event.endswith(".") and event.count(". ") == 0


def test_a_port_taken_meanwhile_is_said_in_one_sentence(runtime: AppRuntime) -> None:
    watchdog = runtime.watchdog
    assert watchdog is not None
    watchdog.stop()  # its next look is taken below, after another program took the port
    port = _lose_the_socket(runtime)
    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen(1)
        for _ in range(UNHEALTHY_LOOKS):  # what its thread does every few seconds
            watchdog.check()
        event = watchdog.last_event or ""
        assert event.startswith(
            f"The local server stopped and could not be restarted on port {port}"
        )
        assert "quit CogFlow Desktop and start it again" in event
        assert watchdog.restarts == 0
    finally:
        squatter.close()
